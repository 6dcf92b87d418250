"""A session client without rendering: the real controller, link and safety rules, with a
schematic mirror picture instead of the room. Used by tests and benchmarks, and useful to
rehearse a plan from the console without a headset.

    python -m vr_app.session.headless --url ws://127.0.0.1:8765/ws/client --code ABCD-EFGH

Lines on stdin act as the client: `leave`, `headset off`, `headset on`, `suds N`.
Each state change is printed as one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import io
import json
import queue
import sys
import threading
import time
from dataclasses import asdict

from .client import ClientSession
from .link import SessionRefused

ROOM_RGB = {"neutral": (196, 196, 190), "memorial": (92, 120, 84), "safe": (120, 150, 190)}
WORD_S = 0.35  # no audio here: a line lasts about as long as it would take to say it
FRAME_S = 1 / 60


def schematic(view, size=(192, 108)) -> bytes:
    """A small picture of what the client sees: room colour, the likeness as a silhouette,
    dimming, and the label. A schematic, not a render."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, ROOM_RGB[view.room])
    draw = ImageDraw.Draw(img)
    w, h = size
    if view.likeness != "none":
        r = h * (0.12 if view.likeness == "far" else 0.28)
        draw.ellipse((w / 2 - r * 0.8, h * 0.45 - r, w / 2 + r * 0.8, h * 0.45 + r), fill=(214, 180, 160))
    if view.dim > 0:
        img = Image.blend(img, Image.new("RGB", size, (0, 0, 0)), min(view.dim, 1.0))
        draw = ImageDraw.Draw(img)
    draw.rectangle((w - 118, h - 14, w, h), fill=(0, 0, 0))
    draw.text((w - 115, h - 13), view.label, fill=(255, 255, 255))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=70)
    return out.getvalue()


def _stdin_lines(sink: queue.Queue) -> None:
    for line in sys.stdin:
        sink.put(line.strip())


def run(session: ClientSession, seconds: float | None, echo=print) -> None:
    session.snapshot = lambda: schematic(session.controller.view())
    commands: queue.Queue = queue.Queue()
    threading.Thread(target=_stdin_lines, args=(commands,), daemon=True).start()
    started, line_started, last = time.monotonic(), None, None
    while seconds is None or time.monotonic() - started < seconds:
        while not commands.empty():
            cmd = commands.get().split()
            if cmd == ["leave"]:
                session.leave()
            elif cmd[:1] == ["headset"] and len(cmd) == 2:
                session.headset(cmd[1] == "on")
            elif cmd[:1] == ["suds"] and len(cmd) == 2 and cmd[1].isdigit():
                session.answer_suds(int(cmd[1]))
        view = session.tick()
        c = session.controller
        if c.playing and view.line:
            line_started = line_started or time.monotonic()
            if time.monotonic() - line_started > WORD_S * len(view.line.split()):
                c.line_done()
        else:
            line_started = None
        state = asdict(view) | {"ack": c.ack}
        state.pop("time_left_s")
        state.pop("breath")
        if state != last:
            echo(json.dumps(state), flush=True)
            last = state
        if view.mode in ("ended", "stopped", "left") and session.link.closed.is_set():
            break
        time.sleep(FRAME_S)
    session.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m vr_app.session.headless", description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="the console's client address, ws://HOST:PORT/ws/client")
    ap.add_argument("--code", required=True, help="the one-time pairing code the console shows")
    ap.add_argument("--seconds", type=float, default=None, help="stop after this long")
    ap.add_argument("--link-timeout", type=float, default=None, help="seconds without the console before pausing")
    args = ap.parse_args(argv)
    try:
        session = ClientSession.join(args.url, args.code, "headless", link_timeout_s=args.link_timeout)
    except SessionRefused as exc:
        print(f"memorial: error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps({"joined": session.session_id}), flush=True)
    run(session, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
