"""The console's web layer: the page, one WebSocket for the therapist's browser and one for
the client's viewer (which connects out to us). The rules live in ConsoleService."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles

from vr_app.session import protocol as p

from generation.session.plan import EXAMPLE
from .service import ConsoleService, Refusal

STATIC = Path(__file__).with_name("static")
HEARTBEAT_S = 1.0
STATUS_S = 1.0
HELLO_TIMEOUT_S = 5.0
REFUSED_CLOSE = 4403


class Hub:
    """The live connections: browsers (any number, same token) and at most one client."""

    def __init__(self, service: ConsoleService):
        self.service = service
        self.browsers: set[WebSocket] = set()
        self.client: WebSocket | None = None

    async def to_browsers(self, msg) -> None:
        text = p.encode(msg)
        for ws in list(self.browsers):
            try:
                await ws.send_text(text)
            except Exception:  # a closed tab; its own handler removes it
                self.browsers.discard(ws)

    async def status(self) -> None:
        await self.to_browsers(p.Status(data=self.service.status()))

    async def alerts(self, texts: list[str]) -> None:
        for text in texts:
            await self.to_browsers(p.Alert(text=text))


def create_app(service: ConsoleService) -> FastAPI:
    hub = Hub(service)

    async def beat() -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            if hub.client is not None:
                with contextlib.suppress(Exception):
                    await hub.client.send_text(p.encode(p.Heartbeat(t=service.t())))
            await hub.status()

    @contextlib.asynccontextmanager
    async def lifespan(app):
        task = asyncio.create_task(beat())
        yield
        task.cancel()
        service.close()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.service, app.state.hub = service, hub
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def check_token(token: str | None) -> bool:
        return token is not None and secrets.compare_digest(token.encode("utf-8", "replace"), service.token.encode())

    @app.get("/", response_class=HTMLResponse)
    async def page(request: Request):
        if not check_token(request.query_params.get("t")):
            raise HTTPException(status_code=403, detail="open the console with the URL it printed")
        return (STATIC / "index.html").read_text("utf-8")

    @app.get("/plan-example.toml", response_class=PlainTextResponse)
    async def plan_example():
        return EXAMPLE

    @app.websocket("/ws/console")
    async def console_ws(ws: WebSocket):
        if not check_token(ws.query_params.get("t")):
            await ws.close(code=REFUSED_CLOSE)
            return
        await ws.accept()
        hub.browsers.add(ws)
        await ws.send_text(p.encode(p.Status(data=service.status())))
        try:
            while True:
                text = await ws.receive_text()
                try:
                    await handle_browser(p.decode(text))
                except (p.ProtocolError, Refusal) as exc:
                    await ws.send_text(p.encode(p.Alert(text=str(exc))))
                await hub.status()
        except WebSocketDisconnect:
            pass
        finally:
            hub.browsers.discard(ws)

    async def handle_browser(msg) -> None:
        if isinstance(msg, p.Command):
            cmd = service.command(msg.name)
            sent = False
            if hub.client is not None:
                with contextlib.suppress(Exception):
                    await hub.client.send_text(p.encode(cmd))
                    sent = True
            service.after_command(cmd)
            if not sent:
                raise Refusal(f"{msg.name} could not reach the client")
        elif isinstance(msg, p.Note):
            service.note(msg.text)
        elif isinstance(msg, p.ChecklistAnswers):
            service.update_checklist(msg.answers)
        elif isinstance(msg, p.Pair):
            service.issue_code()
        elif isinstance(msg, p.Measure):
            await hub.alerts(service.measure(msg.name, msg.value))
        elif isinstance(msg, p.PlanText):
            service.store_plan(msg.toml)
        else:
            raise Refusal(f"the console does not take {msg.TYPE} messages")

    @app.websocket("/ws/client")
    async def client_ws(ws: WebSocket):
        await ws.accept()
        try:
            hello = p.decode(await asyncio.wait_for(ws.receive_text(), HELLO_TIMEOUT_S))
            if not isinstance(hello, p.Hello):
                raise p.ProtocolError("the first message must be hello")
            welcome = service.pair(hello)
        except (p.ProtocolError, Refusal, asyncio.TimeoutError) as exc:
            reason = str(exc) or "no hello in time"
            if isinstance(exc, p.ProtocolError):
                service.audit("pair_refused", reason=f"malformed: {reason}")
            with contextlib.suppress(Exception):
                await ws.send_text(p.encode(p.Refused(reason=reason)))
                await ws.close(code=REFUSED_CLOSE)
            await hub.alerts([f"A viewer was refused: {reason}"])
            return
        except WebSocketDisconnect:
            return
        hub.client = ws
        await ws.send_text(p.encode(welcome))
        await hub.status()
        try:
            while True:
                text = await ws.receive_text()
                try:
                    msg = p.decode(text)
                except p.ProtocolError:
                    continue  # one bad message is dropped; the state machine never sees it
                if isinstance(msg, p.Frame):
                    await hub.to_browsers(msg)
                    continue
                try:
                    alerts = service.on_client(msg)
                except Refusal:
                    continue  # e.g. a SUDS outside 0-100: dropped like any malformed message
                await hub.alerts(alerts)
                await hub.status()
        except WebSocketDisconnect:
            pass
        finally:
            hub.client = None
            await hub.alerts(service.client_gone())
            await hub.status()

    return app
