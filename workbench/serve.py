"""`workbench serve`: the same Textual app in a browser, through textual-serve.

Each browser tab gets its own app process (textual-serve runs the command per websocket),
all on one store, so they follow each other live like terminals do. Loopback by default;
another host needs a token: the first page load carries it as `?token=…`, which is turned
into an HttpOnly, SameSite=Strict cookie that every later request (the websocket, static
files, downloads) must present.
"""

from __future__ import annotations

import hmac
import shlex
import socket
import sys
from typing import Any

from aiohttp import web
from textual_serve.server import Server

TOKEN_COOKIE = "workbench_token"


def check_port_free(host: str, port: int) -> None:
    """A one-line error now, instead of a traceback from deep inside aiohttp later."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = "in use" if exc.errno == 98 else (exc.strerror or str(exc))
            raise OSError(f"cannot serve on {host}:{port}: {reason}") from None


class WorkbenchServer(Server):
    """textual-serve's server with an optional token gate in front of every route."""

    def __init__(self, command: str, *, token: str | None = None, **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self.token = token

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        if self.token:
            app.middlewares.append(self._token_gate)
        return app

    @web.middleware
    async def _token_gate(self, request: web.Request, handler) -> web.StreamResponse:
        assert self.token is not None
        offered = request.query.get("token") or request.cookies.get(TOKEN_COOKIE) or ""
        if not hmac.compare_digest(offered.encode(), self.token.encode()):
            raise web.HTTPUnauthorized(text="workbench: this server needs ?token=…\n")
        response = await handler(request)
        if "token" in request.query and isinstance(response, web.Response):
            response.set_cookie(
                TOKEN_COOKIE, self.token, httponly=True, samesite="Strict", path="/"
            )
        return response


def app_command(db: str | None) -> str:
    """The command textual-serve runs per browser tab: this interpreter, this store."""
    parts = [sys.executable, "-m", "workbench"]
    if db:
        parts += ["--db", db]
    return shlex.join(parts)


def serve(
    db: str | None,
    host: str,
    port: int,
    token: str | None,
    public_url: str | None = None,
) -> int:
    check_port_free(host, port)
    if public_url is None:
        shown = host if host not in ("0.0.0.0", "::") else socket.gethostname()
        shown = f"[{shown}]" if ":" in shown else shown
        public_url = f"http://{shown}:{port}"
    server = WorkbenchServer(
        app_command(db), token=token, host=host, port=port, title="workbench",
        public_url=public_url,
    )  # fmt: skip
    server.serve()
    return 0
