"""`workbench mcp` driven by the MCP SDK's own client, over stdio and streamable HTTP."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

mcp = pytest.importorskip("mcp")

from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

from workbench.engine import Engine  # noqa: E402
from workbench.mcp_server import parse_http_address  # noqa: E402
from workbench.netutil import is_loopback  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXPECTED_TOOLS = {
    "neural_train", "neural_status", "neural_predict", "neural_list", "patterns_analyze",
    "patterns_learn", "memory_store", "memory_search", "memory_stats", "hub_share",
    "hub_query", "hub_vote", "hub_applied", "hub_subscribe", "strategy_analyze",
    "strategy_outcome", "pipeline_run", "pipeline_status", "learn_status", "learn_trigger",
    "memory_get", "memory_put", "memory_list", "memory_delete", "agent_event", "neural_evaluate",
}  # fmt: skip


def workbench_command() -> list[str]:
    exe = shutil.which("workbench")
    return [exe] if exe else [sys.executable, "-m", "workbench"]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("mcp") / "wb.db"
    with Engine(path) as engine:
        engine.ensure_seeded()
    return path


@asynccontextmanager
async def stdio_session(db: Path):
    cmd = workbench_command()
    params = StdioServerParameters(
        command=cmd[0],
        args=[*cmd[1:], "mcp", "--db", str(db)],
        env={"PYTHONPATH": str(ROOT), "WORKBENCH_BACKEND": "numpy"},
        cwd=str(db.parent),
    )
    with open(os.devnull, "w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


def data(result) -> dict:
    assert not result.is_error, result.content
    return result.structured_content


def error_text(result) -> str:
    assert result.is_error
    return " ".join(c.text for c in result.content if getattr(c, "text", None))


async def test_stdio_lists_and_calls_every_tool(store: Path, tmp_path: Path):
    async with stdio_session(store) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert set(tools) >= EXPECTED_TOOLS
        for tool in tools.values():
            assert tool.description, tool.name  # an agent needs to know what it does
            assert tool.input_schema["type"] == "object"
        assert "text" in tools["hub_query"].input_schema["properties"]

        # memory: store then find it again
        stored = data(await session.call_tool("memory_store", {
            "text": "flaky network tests pass after pinning the DNS resolver",
            "namespace": "mcp-test", "key": "dns"}))  # fmt: skip
        assert stored
        hits = data(
            await session.call_tool(
                "memory_search",
                {"query": "pin the DNS resolver for flaky network tests", "namespace": "mcp-test"},
            )
        )
        assert hits["hits"][0]["key"] == "dns"
        assert "vector" in json.dumps(data(await session.call_tool("memory_stats", {})))

        # memory by key: exact put/get/list/delete
        assert data(await session.call_tool("memory_put", {
            "namespace": "mcp-keys", "key": "plan", "value": "ship on friday"}))  # fmt: skip
        got = data(await session.call_tool("memory_get", {"namespace": "mcp-keys",
                                                           "key": "plan"}))  # fmt: skip
        assert "ship on friday" in json.dumps(got)
        listed = data(await session.call_tool("memory_list", {"namespace": "mcp-keys"}))
        assert [e["key"] for e in listed["entries"]] == ["plan"]
        assert data(await session.call_tool("memory_delete", {"namespace": "mcp-keys",
                                                               "key": "plan"}))  # fmt: skip
        missing = error_text(
            await session.call_tool("memory_get", {"namespace": "mcp-keys", "key": "plan"})
        )
        assert "plan" in missing

        # an agent that is not Claude Code reports its session in the neutral schema
        for event in (
            {"session": "mcp-s1", "kind": "session_start", "agent": "langgraph"},
            {"session": "mcp-s1", "kind": "prompt", "text": "add retries to the fetcher"},
            {"session": "mcp-s1", "kind": "tool_start", "tool": "Bash", "tool_id": "t1",
             "input": {"command": "export TOKEN=ghp_" + "a" * 36}},
            {"session": "mcp-s1", "kind": "tool_end", "tool": "Bash", "tool_id": "t1",
             "ok": True, "output": "done"},
            {"session": "mcp-s1", "kind": "session_end"},
        ):  # fmt: skip
            assert data(await session.call_tool("agent_event", {"event": event}))
        bad = error_text(await session.call_tool("agent_event", {"event": {"kind": "prompt"}}))
        assert "session" in bad

        # hub: share, find, vote, applied, subscribe
        shared = data(await session.call_tool("hub_share", {
            "channel": "solutions", "type": "solution", "agent": "mcp-agent",
            "title": "Zebra-stripe retries for the uplink cache",
            "content": "Retry the uplink cache with zebra-stripe backoff.",
            "tags": ["cache"], "priority": "HIGH"}))  # fmt: skip
        item_id = shared["id"]
        found = data(await session.call_tool("hub_query", {"text": "zebra-stripe uplink"}))
        assert found["items"][0]["id"] == item_id
        assert data(await session.call_tool("hub_vote", {"item_id": item_id, "agent": "a2"}))
        applied = data(await session.call_tool("hub_applied", {
            "item_id": item_id, "agent": "a2", "success": True}))  # fmt: skip
        assert applied
        sub = data(await session.call_tool("hub_subscribe", {
            "agent": "mcp-agent", "channel": "warnings"}))  # fmt: skip
        assert sub["changed"] is True

        # patterns and strategy
        analysis = data(
            await session.call_tool(
                "patterns_analyze",
                {"operation": "brainstorm several alternative designs for the cache"},
            )
        )
        assert analysis["pattern"] in {"convergent", "divergent", "lateral", "systems",
                                       "critical", "adaptive"}  # fmt: skip
        assert data(
            await session.call_tool(
                "patterns_learn",
                {"operation": "brainstorm designs", "success": True, "time_ms": 1200},
            )
        )
        decision = data(await session.call_tool("strategy_analyze", {
            "description": "migrate the billing service to the new queue"}))  # fmt: skip
        outcome = data(
            await session.call_tool(
                "strategy_outcome",
                {"decision_id": decision["id"], "success": True, "duration_s": 42.0},
            )
        )
        assert outcome["success"] is True

        # learning status and trigger (not due on a fresh store: says so, no error)
        assert "buffer" in json.dumps(data(await session.call_tool("learn_status", {})))
        assert data(await session.call_tool("learn_trigger", {}))

        # neural: catalog, train with progress notifications, status, predict
        catalog = data(await session.call_tool("neural_list", {"catalog": True}))["catalog"]
        assert len(catalog) == 27
        progress: list[tuple[float, float | None]] = []

        async def on_progress(done, total, message):
            progress.append((done, total))

        trained = data(await session.call_tool(
            "neural_train", {"catalog": "sparc-coord", "epochs": 3, "wait": True},
            progress_callback=on_progress))  # fmt: skip
        assert trained["result"]["status"] == "trained"
        assert [p[0] for p in progress] == [1.0, 2.0, 3.0] and progress[-1][1] == 3.0
        status = data(await session.call_tool("neural_status", {"run_id": trained["run_id"]}))
        assert status["epochs_done"] == 3 and status["model_status"] in {"trained", "ready"}
        predicted = data(
            await session.call_tool(
                "neural_predict",
                {"model": "sparc-coord", "input": {"text": "write the acceptance criteria"}},
            )
        )
        assert predicted["predictions"][0]["prediction"]
        rows = (ROOT / "sample_data" / "neural" / "sparc_phases.csv").read_text().splitlines()
        held_out = tmp_path / "held_out.csv"
        held_out.write_text("\n".join([rows[0], *rows[-8:]]) + "\n")
        evaluation = data(await session.call_tool(
            "neural_evaluate", {"model": "sparc-coord", "data": str(held_out)}))  # fmt: skip
        assert 0.0 <= evaluation["metrics"]["accuracy"] <= 1.0
        models = data(await session.call_tool("neural_list", {}))["models"]
        assert any(m["name"] == "sparc-coord" for m in models)

        # a background training answers at once with its run id
        started = data(
            await session.call_tool("neural_train", {"catalog": "sparc-coord", "epochs": 2})
        )
        assert started["status"] in {"running", "finished"} and started["run_id"]
        for _ in range(200):
            state = data(await session.call_tool("neural_status", {"run_id": started["run_id"]}))
            if state["status"] != "running":
                break
            time.sleep(0.05)
        assert state["epochs_done"] == 2

        # pipeline: a one-task run in the background, then its status
        tasks = tmp_path / "tasks"
        shutil.copytree(ROOT / "sample_data" / "tasks" / "binary_search", tasks / "bs")
        run = data(
            await session.call_tool(
                "pipeline_run",
                {"tasks_dir": str(tasks), "strategies": ["balanced"], "workers": 1, "wait": True},
            )
        )
        assert run["run_id"] and run["result"]
        pstatus = data(await session.call_tool("pipeline_status", {"run_id": run["run_id"]}))
        assert pstatus["run"]["status"] == "completed" and pstatus["executions"] == 1
        profiles = data(await session.call_tool("pipeline_status", {}))["profiles"]
        assert "balanced" in profiles

        # resources: models, runs, hub channels
        templates = {t.uri_template for t in
                     (await session.list_resource_templates()).resource_templates}  # fmt: skip
        assert {"workbench://models/{name}", "workbench://runs/{run_id}",
                "workbench://hub/channels/{name}"} <= templates  # fmt: skip
        listed = {str(r.uri) for r in (await session.list_resources()).resources}
        assert {"workbench://models", "workbench://runs", "workbench://hub/channels"} <= listed
        channels = json.loads(
            (await session.read_resource("workbench://hub/channels")).contents[0].text
        )
        assert any(c["name"] == "solutions" for c in channels)

    # writes landed in the store through the engine (what an open UI follows)
    with Engine(store) as engine:
        assert engine.hub.item(item_id)["title"].startswith("Zebra-stripe")
        detail = engine.agents.session_detail("mcp-s1")
        assert "ghp_" + "a" * 36 not in json.dumps(detail, default=str)  # redacted


async def test_errors_are_one_sentence_and_the_server_keeps_serving(store: Path):
    async with stdio_session(store) as session:
        unknown = error_text(
            await session.call_tool(
                "neural_predict", {"model": "no-such-model", "input": {"text": "x"}}
            )
        )
        assert "no-such-model" in unknown and "Traceback" not in unknown
        assert "\n" not in unknown.strip()

        wrong_types = error_text(await session.call_tool("hub_query", {"text": 5, "limit": "x"}))
        assert "limit" in wrong_types or "text" in wrong_types

        bad_enum = error_text(await session.call_tool("patterns_learn", {"operation": "x"}))
        assert "success" in bad_enum

        both = error_text(await session.call_tool("neural_train", {}))
        assert "catalog" in both

        missing = error_text(
            await session.call_tool(
                "neural_train", {"architecture": {"layers": []}, "data": "/nonexistent/data.csv"}
            )
        )
        assert "Traceback" not in missing

        no_run = error_text(await session.call_tool("pipeline_status", {"run_id": 999999}))
        assert "999999" in no_run
        no_vote = error_text(await session.call_tool("hub_vote", {"item_id": "nope", "agent": "a"}))
        assert "nope" in no_vote

        # enum values in any case, as on the CLI
        shared = data(await session.call_tool("hub_share", {
            "channel": "warnings", "type": "WARNING", "title": "Case-free enums",
            "content": "High and HIGH are the same priority.", "agent": "a",
            "priority": "high"}))  # fmt: skip
        assert shared["priority"] == "HIGH" and shared["type"] == "warning"
        assert "complexity" in error_text(
            await session.call_tool("pipeline_run", {"complexity": "extreme"})
        )
        assert data(await session.call_tool("memory_store", {"text": "t", "tier": "Vector"}))

        # still serving after all of that
        assert data(await session.call_tool("memory_stats", {}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("server did not listen")


async def test_http_transport_checks_the_bearer_token(store: Path):
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WORKBENCH_MCP_TOKEN": "s3cret-token"}
    proc = subprocess.Popen(
        [*workbench_command(), "mcp", "--db", str(store), "--http", f"127.0.0.1:{port}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for_port(port, proc)
        url = f"http://127.0.0.1:{port}/mcp"
        # without the token: refused before any MCP message is handled
        async with httpx2.AsyncClient() as plain:
            response = await plain.post(url, json={"jsonrpc": "2.0", "id": 1,
                                                   "method": "tools/list"})  # fmt: skip
            assert response.status_code == 401
        async with httpx2.AsyncClient(headers={"Authorization": "Bearer wrong-token"}) as wrong:
            response = await wrong.post(url, json={"jsonrpc": "2.0", "id": 1,
                                                   "method": "tools/list"})  # fmt: skip
            assert response.status_code == 401
        # with it: a real session
        client = httpx2.AsyncClient(headers={"Authorization": "Bearer s3cret-token"})
        async with client, streamable_http_client(url, http_client=client) as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                await session.initialize()
                names = {t.name for t in (await session.list_tools()).tools}
                assert names >= EXPECTED_TOOLS
                stats = await session.call_tool("memory_stats", {})
                assert not stats.is_error
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_non_loopback_without_token_is_refused_in_one_line(store: Path):
    env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_MCP_TOKEN"}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [*workbench_command(), "mcp", "--db", str(store), "--http", "0.0.0.0:8765"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "token" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("address", "expected"),
    [("127.0.0.1:8000", ("127.0.0.1", 8000)), ("[::1]:9000", ("::1", 9000)),
     (":7000", ("127.0.0.1", 7000)), ("localhost:1", ("localhost", 1))],
)  # fmt: skip
def test_parse_http_address(address, expected):
    assert parse_http_address(address) == expected


@pytest.mark.parametrize("address", ["8000", "host:port", "127.0.0.1:0", "127.0.0.1:70000"])
def test_parse_http_address_refuses(address):
    with pytest.raises(ValueError):
        parse_http_address(address)


def test_loopback_detection():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1")
    assert not is_loopback("example.com")
