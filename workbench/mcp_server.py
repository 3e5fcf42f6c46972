"""`workbench mcp`: the workbench as a Model Context Protocol server.

A face like the CLI and the UI: every tool is a thin call into the Engine, so what an agent
writes lands in the same store (and shows up live in an open UI) and what it reads is what
the panes show. Built on the official SDK (`mcp` 2.x, `MCPServer`); imported only by this
command because the SDK alone takes ~0.6 s to import.

Errors the workbench raises for bad input (unknown model, wrong value, store locked) become
`ToolError`s: the client gets `is_error` and one sentence, and the server keeps serving.
"""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import anyio
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BeforeValidator, Field

from workbench import __version__
from workbench.engine import Engine
from workbench.netutil import require_token_off_loopback
from workbench.store.errors import StoreError

# What the workbench raises for input or store problems; anything else is a bug and the SDK
# reports it as a generic tool error.
USER_ERRORS = (StoreError, ValueError, KeyError, LookupError, OSError)
PROGRESS_POLL_S = 0.1

INSTRUCTIONS = """\
The workbench is a learning system for agents. Store and search memories (memory_*), share
and find knowledge other agents wrote (hub_*: share what worked, query before a task, vote
and report applied so useful items rise), ask which cognitive pattern or execution strategy
suits a task (patterns_analyze, strategy_analyze) and report how it went (patterns_learn,
strategy_outcome), train and query small neural models (neural_*), run the strategy pipeline
(pipeline_*) and continuous learning (learn_*). Every figure it returns is measured from its
own store."""


def parse_http_address(address: str) -> tuple[str, int]:
    """'HOST:PORT' (or '[v6]:PORT', or ':PORT' for loopback) → (host, port)."""
    host, sep, port_text = address.rpartition(":")
    if not sep:
        raise ValueError(f"--http wants HOST:PORT, got {address!r}")
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"--http port is not a number: {port_text!r}") from None
    if not 0 < port < 65536:
        raise ValueError(f"--http port out of range: {port}")
    return host, port


class StaticTokenVerifier:
    """Accepts exactly one bearer token, compared in constant time."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def verify_token(self, token: str) -> AccessToken | None:
        if hmac.compare_digest(token.encode(), self._token.encode()):
            return AccessToken(token=token, client_id="workbench-client", scopes=[])
        return None


@dataclass
class Job:
    """Long work (training, a pipeline run) running in this server process."""

    kind: str
    ident: dict[str, Any] = field(default_factory=dict)
    started: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    progress: list[tuple[float, float | None, str]] = field(default_factory=list)
    result: dict[str, Any] | None = None
    error: str | None = None


class Workbench:
    """The engine as the tools use it: one lock for short calls, threads for long work."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.lock = threading.RLock()
        self.jobs: list[Job] = []

    def call(self, fn: Callable[[Engine], Any]) -> Any:
        with self.lock:
            try:
                with self.engine.guard():
                    return plain(fn(self.engine))
            except USER_ERRORS as exc:
                raise ToolError(one_line(exc)) from None

    def start(self, job: Job, work: Callable[[Job], dict[str, Any]]) -> Job:
        """Run `work` in a thread; return once it has said who it is (or failed)."""

        def body() -> None:
            try:
                with self.engine.guard():
                    job.result = plain(work(job))
            except USER_ERRORS as exc:
                job.error = one_line(exc)
            except Exception as exc:  # noqa: BLE001 - reported to the client, not raised
                job.error = f"{type(exc).__name__}: {one_line(exc)}"
            finally:
                job.started.set()
                job.done.set()

        self.jobs.append(job)
        threading.Thread(target=body, name=f"wb-mcp-{job.kind}", daemon=True).start()
        job.started.wait()
        if job.error and not job.ident:
            raise ToolError(job.error)
        return job


def one_line(exc: BaseException) -> str:
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return " ".join(text.split()) or type(exc).__name__


def plain(value: Any) -> Any:
    """JSON-safe copy (datetimes, numpy scalars, tuples) of what the engine returned."""
    return json.loads(json.dumps(value, default=_default))


def _default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ", timespec="seconds")
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


async def follow(job: Job, ctx: Context | None) -> dict[str, Any]:
    """Wait for a job, forwarding each progress step as an MCP progress notification."""
    sent = 0
    while True:
        finished = job.done.is_set()
        while ctx is not None and sent < len(job.progress):
            done, total, message = job.progress[sent]
            await ctx.report_progress(done, total, message)
            sent += 1
        if finished:
            break
        await anyio.sleep(PROGRESS_POLL_S)
    if job.error:
        raise ToolError(job.error)
    return {**job.ident, "status": "finished", "result": job.result}


def build_server(engine: Engine, *, auth: tuple[str, int, str] | None = None) -> MCPServer:
    """The MCP server over one engine. `auth` = (host, port, token) for HTTP with a token."""
    kwargs: dict[str, Any] = {}
    if auth is not None:
        host, port, token = auth
        base = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
        kwargs = {
            "token_verifier": StaticTokenVerifier(token),
            "auth": AuthSettings(issuer_url=base, resource_server_url=f"{base}/mcp"),
        }
    server = MCPServer(
        "workbench", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING", **kwargs
    )
    wb = Workbench(engine)
    _register_tools(server, wb)
    _register_resources(server, wb)
    return server


def _any_case(upper: bool) -> BeforeValidator:
    """Enum arguments are accepted in any case, as on the CLI."""
    return BeforeValidator(
        lambda v: (v.strip().upper() if upper else v.strip().lower()) if isinstance(v, str) else v
    )


Priority = Annotated[Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"], _any_case(upper=True)]
Tier = Annotated[Literal["vector", "episodic", "semantic"], _any_case(upper=False)]
Complexity = Annotated[Literal["easy", "medium", "hard"], _any_case(upper=False)]


def _register_tools(server: MCPServer, wb: Workbench) -> None:
    tool = server.tool

    # -- neural ----------------------------------------------------------------------

    @tool()
    async def neural_train(
        ctx: Context,
        catalog: Annotated[
            str | None, Field(description="a catalog model name (see neural_list catalog=true)")
        ] = None,
        architecture: Annotated[
            dict[str, Any] | str | None,
            Field(description="a model spec as JSON object, or a path to a spec JSON file"),
        ] = None,
        data: Annotated[
            str | None, Field(description="training data file (JSON, CSV or NPZ)")
        ] = None,
        name: Annotated[str | None, Field(description="registry name for the model")] = None,
        epochs: Annotated[int | None, Field(ge=1, le=100_000)] = None,
        wait: Annotated[
            bool,
            Field(
                description="false: return the run id at once (poll neural_status); "
                "true: wait, with progress notifications per epoch"
            ),
        ] = False,
    ) -> dict[str, Any]:
        """Train a model into the registry: a catalog model by name, or an architecture
        with a data file. Returns the training run id; follow it with neural_status."""
        if (catalog is None) == (architecture is None):
            raise ToolError("give either catalog (a catalog model name) or architecture + data")
        if architecture is not None and not data:
            raise ToolError("architecture needs data: the path of a training data file")
        planned = epochs

        def work(job: Job) -> dict[str, Any]:
            def on_start(ident: dict[str, Any]) -> None:
                job.ident = {"run_id": ident["run_id"], "model": ident["name"],
                             "version": ident["version"]}  # fmt: skip
                job.started.set()

            def on_epoch(rec: Any) -> None:
                shown = f"epoch {rec.epoch}: loss {rec.loss:.4f}"
                if rec.val_accuracy is not None:
                    shown += f", val_accuracy {rec.val_accuracy:.3f}"
                job.progress.append((float(rec.epoch), float(planned) if planned else None, shown))

            service = wb.engine.neural
            if catalog is not None:
                return service.train_catalog(
                    catalog, epochs=epochs, on_start=on_start, on_epoch=on_epoch
                )
            spec = json.loads(architecture) if _looks_like_json(architecture) else architecture
            return service.train(
                spec, data, name=name, epochs=epochs, on_start=on_start, on_epoch=on_epoch
            )

        job = wb.start(Job("train"), work)
        if wait:
            return await follow(job, ctx)
        return {**job.ident, "status": "running" if not job.done.is_set() else "finished"}

    @tool()
    def neural_status(run_id: int) -> dict[str, Any]:
        """A training run: status, epochs done, latest loss/accuracy, final metrics."""
        return wb.call(lambda e: e.neural.run_status(run_id))

    @tool()
    def neural_predict(
        model: Annotated[str, Field(description="NAME, NAME@VERSION or NAME@ALIAS")],
        input: Annotated[
            Any, Field(description="one record (object or text) or a list of records")
        ],
    ) -> dict[str, Any]:
        """Predict with a registered model: prediction, confidence, nearest training
        examples and recommendations per input record."""
        return {"predictions": wb.call(lambda e: e.neural.predict(model, input))}

    @tool()
    def neural_evaluate(
        model: Annotated[str, Field(description="NAME, NAME@VERSION or NAME@ALIAS")],
        data: Annotated[str, Field(description="a labelled data file (JSON, CSV or NPZ)")],
        label: Annotated[str | None, Field(description="the label column or key")] = None,
    ) -> dict[str, Any]:
        """Measure a model on held-out data, encoded exactly as predict encodes it:
        accuracy, per-class figures, confusion matrix, calibration (ECE) and drift of the
        file from the training statistics. Stored with the model version."""
        return wb.call(lambda e: e.neural.evaluate(model, data, label))

    @tool()
    def neural_list(
        catalog: Annotated[
            bool, Field(description="true: the catalog of presets with their data sources")
        ] = False,
    ) -> dict[str, Any]:
        """Registered models (versions, champion, measured accuracy), or the catalog."""
        if catalog:
            rows = wb.call(lambda e: e.neural.catalog())
            return {"catalog": [{k: v for k, v in r.items() if k != "spec"} for r in rows]}
        return {"models": wb.call(lambda e: e.neural.models())}

    # -- patterns and learning ------------------------------------------------------

    @tool()
    def patterns_analyze(
        operation: Annotated[str, Field(description="the task or operation, in words")],
    ) -> dict[str, Any]:
        """Which cognitive pattern suits an operation, which classifier answered, similar
        past operations and recommendations."""
        return wb.call(lambda e: e.patterns.analyze({"text": operation}))

    @tool()
    def patterns_learn(
        operation: Annotated[str, Field(description="the operation, in words")],
        success: bool,
        time_ms: Annotated[float | None, Field(ge=0)] = None,
        iterations: Annotated[int | None, Field(ge=1)] = None,
        errors: Annotated[int | None, Field(ge=0)] = None,
    ) -> dict[str, Any]:
        """Record how an operation went, so pattern memory, learnings and the experience
        buffer learn from it."""
        outcome: dict[str, Any] = {"success": success}
        for key, value in (("time_ms", time_ms), ("iterations", iterations), ("errors", errors)):
            if value is not None:
                outcome[key] = value
        return wb.call(lambda e: e.patterns.learn({"text": operation}, outcome))

    @tool()
    def learn_status() -> dict[str, Any]:
        """Continuous learning: experience buffer, trigger state, last training runs."""
        return wb.call(lambda e: e.patterns.learn_status())

    @tool()
    def learn_trigger(
        force: Annotated[bool, Field(description="train even if the trigger is not due")] = False,
    ) -> dict[str, Any]:
        """Run the continuous-learning trigger: train on the buffer if due, gate, deploy."""
        return wb.call(lambda e: e.patterns.trigger(force=force))

    # -- memory ----------------------------------------------------------------------

    @tool()
    def memory_store(
        text: str,
        tier: Tier = "vector",
        namespace: str | None = None,
        key: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store a memory in a tier (vector memories are searchable by meaning)."""
        return wb.call(
            lambda e: e.memory.store(tier, text, namespace=namespace, key=key, meta=meta)
        )

    @tool()
    def memory_search(
        query: str,
        namespace: str | None = None,
        k: Annotated[int, Field(ge=1, le=100)] = 10,
        where: Annotated[
            dict[str, Any] | None, Field(description='metadata filter, e.g. {"lang": "py"}')
        ] = None,
    ) -> dict[str, Any]:
        """Search vector memory by meaning; the best matches with scores."""

        def search(e: Engine) -> list[dict[str, Any]]:
            hits = e.memory.search(query, namespace, k, where)
            return [{"key": h.key, "text": h.text, "score": round(h.score, 6),
                     "namespace": h.namespace} for h in hits]  # fmt: skip

        return {"hits": wb.call(search)}

    @tool()
    def memory_put(
        namespace: str,
        key: str,
        value: str,
        ttl_s: Annotated[
            float | None, Field(gt=0, description="expire after this many seconds")
        ] = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store a value under (namespace, key), replacing what was there."""
        return wb.call(
            lambda e: e.memory.put(namespace, key, value, ttl_s=ttl_s, metadata=metadata)
        )

    @tool()
    def memory_get(namespace: str, key: str) -> dict[str, Any]:
        """The value stored under (namespace, key): an exact read, not a search."""
        return wb.call(lambda e: e.memory.get(namespace, key))

    @tool()
    def memory_list(
        namespace: str, prefix: str = "", limit: Annotated[int, Field(ge=1, le=10_000)] = 1000
    ) -> dict[str, Any]:
        """The live entries of a namespace by key (optionally those starting with prefix)."""
        return {"entries": wb.call(lambda e: e.memory.list(namespace, prefix, limit))}

    @tool()
    def memory_delete(namespace: str, key: str) -> dict[str, Any]:
        """Remove the entry under (namespace, key)."""
        return wb.call(lambda e: e.memory.delete(namespace, key))

    @tool()
    def memory_stats() -> dict[str, Any]:
        """Per tier: entries, bytes, compression, search latency."""
        return wb.call(lambda e: e.memory.stats())

    # -- hub -------------------------------------------------------------------------

    @tool()
    def hub_share(
        channel: str,
        type: Annotated[str, Field(description="e.g. solution, warning, optimization, pattern")],
        title: str,
        content: str,
        agent: Annotated[str, Field(description="who shares it (your agent name)")],
        priority: Priority = "MEDIUM",
        tags: list[str] | None = None,
        broadcast: bool = False,
    ) -> dict[str, Any]:
        """Share a knowledge item in a channel; subscribers receive it."""
        return wb.call(
            lambda e: e.hub.share(channel, type, title, content, priority=priority,
                                  tags=tags or [], agent=agent, broadcast=broadcast)
        )  # fmt: skip

    @tool()
    def hub_query(
        text: str,
        channel: str | None = None,
        min_priority: Priority | None = None,
        tag: str | None = None,
        limit: Annotated[int, Field(ge=1, le=100)] = 10,
    ) -> dict[str, Any]:
        """Find knowledge items by relevance (validated items first)."""
        return {
            "items": wb.call(
                lambda e: e.hub.query(text, channel=channel, min_priority=min_priority,
                                      tag=tag, limit=limit)
            )
        }  # fmt: skip

    @tool()
    def hub_vote(item_id: str, agent: str) -> dict[str, Any]:
        """Vote an item useful (one vote per agent)."""
        return wb.call(lambda e: e.hub.vote(item_id, agent))

    @tool()
    def hub_applied(item_id: str, agent: str, success: bool | None = None) -> dict[str, Any]:
        """Report that you applied an item, and whether it worked (drives its state)."""
        return wb.call(lambda e: e.hub.mark_applied(item_id, agent, success))

    @tool()
    def hub_subscribe(agent: str, channel: str, subscribe: bool = True) -> dict[str, Any]:
        """Subscribe an agent to a channel (or unsubscribe with subscribe=false)."""

        def change(e: Engine) -> dict[str, Any]:
            act = e.hub.subscribe if subscribe else e.hub.unsubscribe
            return {"agent": agent, "channel": channel, "subscribed": subscribe,
                    "changed": act(agent, channel)}  # fmt: skip

        return wb.call(change)

    # -- agents ------------------------------------------------------------------

    @tool()
    def agent_event(
        event: Annotated[
            dict[str, Any],
            Field(
                description='one event in the neutral schema: {"session": ID, "kind": '
                "session_start|prompt|tool_start|tool_end|stop|subagent_stop|session_end, "
                '"agent"?, "at"?, "text"?, "tool"?, "tool_id"?, "input"?, "output"?, "ok"?, '
                '"error"?, "id"?, "meta"?} (see README, Agents)'
            ),
        ],
    ) -> dict[str, Any]:
        """Record what your agent did (a prompt, a tool call, the end of a session), so the
        workbench learns from real sessions; secrets are redacted before storage."""
        return wb.call(lambda e: e.agents.record_event(event))

    # -- adaptive strategy -----------------------------------------------------------

    @tool()
    def strategy_analyze(
        description: Annotated[str, Field(description="the task to plan")],
    ) -> dict[str, Any]:
        """Analyse a task (complexity, agents, duration from history) and choose an
        execution strategy; returns a decision id to report the outcome against."""
        return wb.call(lambda e: e.adaptive.decide(description))

    @tool()
    def strategy_outcome(
        decision_id: str,
        success: bool,
        duration_s: Annotated[float, Field(ge=0)],
        iterations: Annotated[int, Field(ge=1)] = 1,
        errors: Annotated[int, Field(ge=0)] = 0,
        what_worked: list[str] | None = None,
        improvements: list[str] | None = None,
    ) -> dict[str, Any]:
        """Report how a decided strategy went; the strategy posteriors learn from it."""
        return wb.call(
            lambda e: e.adaptive.record_outcome(
                decision_id, success=success, duration_s=duration_s, iterations=iterations,
                errors=errors, what_worked=what_worked or [], improvements=improvements or [],
            )
        )  # fmt: skip

    # -- pipeline --------------------------------------------------------------------

    @tool()
    async def pipeline_run(
        ctx: Context,
        complexity: Complexity | None = None,
        iterations: Annotated[int, Field(ge=1, le=100)] = 1,
        strategies: list[str] | None = None,
        tasks_dir: Annotated[str | None, Field(description="a directory of tasks")] = None,
        workers: Annotated[int | None, Field(ge=1, le=64)] = None,
        wait: bool = False,
    ) -> dict[str, Any]:
        """Run tasks under competing strategies in sandboxes. Returns the run id at once
        (follow it with pipeline_status), or waits with progress when wait=true."""

        def work(job: Job) -> dict[str, Any]:
            def on_event(event: dict[str, Any]) -> None:
                if event.get("type") == "run_started":
                    job.ident = {"run_id": event["run_id"]}
                    job.started.set()

            kwargs: dict[str, Any] = {"complexity": complexity, "iterations": iterations,
                                      "tasks_dir": tasks_dir, "workers": workers,
                                      "on_event": on_event}  # fmt: skip
            if strategies:
                kwargs["strategies"] = strategies
            return wb.engine.pipeline.run(**kwargs)

        job = wb.start(Job("pipeline"), work)
        if not wait:
            return {**job.ident, "status": "running" if not job.done.is_set() else "finished"}
        while not job.done.is_set():
            status = wb.call(lambda e: _run_status(e, job.ident["run_id"]))
            progress = status.get("progress") or {}
            if progress.get("total"):
                await ctx.report_progress(progress["done"], progress["total"], "executions")
            await anyio.sleep(0.5)
        return await follow(job, None)

    @tool()
    def pipeline_status(
        run_id: Annotated[
            int | None, Field(description="a run id; omitted: strategy profiles and trends")
        ] = None,
    ) -> dict[str, Any]:
        """A pipeline run's state and progress, or (without run_id) the strategy profiles."""
        if run_id is None:
            return {"profiles": wb.call(lambda e: e.pipeline.status())}
        return wb.call(lambda e: _run_status(e, run_id))


def _run_status(engine: Engine, run_id: int) -> dict[str, Any]:
    from workbench.pipeline.service import run_progress

    runs = [r for r in engine.pipeline.runs(limit=1_000_000) if r["id"] == run_id]
    if not runs:
        raise LookupError(f"no pipeline run {run_id}")
    executions = engine.pipeline.executions(run_id)
    passed = sum(1 for x in executions if x.get("success"))
    return {
        "run": runs[0],
        "progress": run_progress(runs[0], executions),
        "executions": len(executions),
        "executions_passed": passed,
    }


def _looks_like_json(value: Any) -> bool:
    return isinstance(value, str) and value.lstrip().startswith("{")


def _register_resources(server: MCPServer, wb: Workbench) -> None:
    def as_json(value: Any) -> str:
        return json.dumps(value, indent=2, sort_keys=True)

    @server.resource("workbench://models", mime_type="application/json")
    def models() -> str:
        """Registered models: versions, champion, measured validation accuracy."""
        return as_json(wb.call(lambda e: e.neural.models()))

    @server.resource("workbench://models/{name}", mime_type="application/json")
    def model_versions(name: str) -> str:
        """Every version of one model."""
        return as_json(wb.call(lambda e: e.neural.versions(name)))

    @server.resource("workbench://runs", mime_type="application/json")
    def runs() -> str:
        """The latest pipeline runs."""
        return as_json(wb.call(lambda e: e.pipeline.runs()))

    @server.resource("workbench://runs/{run_id}", mime_type="application/json")
    def run(run_id: str) -> str:
        """One pipeline run with progress and execution counts."""
        try:
            ident = int(run_id)
        except ValueError:
            raise ToolError(f"run id is not a number: {run_id!r}") from None
        return as_json(wb.call(lambda e: _run_status(e, ident)))

    @server.resource("workbench://hub/channels", mime_type="application/json")
    def channels() -> str:
        """Hub channels with item and subscriber counts."""
        return as_json(wb.call(lambda e: e.hub.channels()))

    @server.resource("workbench://hub/channels/{name}", mime_type="application/json")
    def channel_items(name: str) -> str:
        """The items of one hub channel."""
        return as_json(wb.call(lambda e: e.hub.items(name)))


def serve(db: str | None, http: str | None = None, token: str | None = None) -> int:
    """Run the server until the client (stdio) or a signal (HTTP) ends it."""
    if http is not None:
        host, port = parse_http_address(http)
        require_token_off_loopback(host, token, "--token (or WORKBENCH_MCP_TOKEN)")
    engine = Engine(db, long_lived=True)
    try:
        engine.ensure_seeded()
        if http is None:
            build_server(engine).run("stdio")
            return 0
        auth = (host, port, token) if token else None
        server = build_server(engine, auth=auth)
        server.run("streamable-http", host=host, port=port)
        return 0
    finally:
        engine.close()


__all__ = ["build_server", "serve", "parse_http_address"]
