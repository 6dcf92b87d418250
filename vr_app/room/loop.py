"""The event loop the room's processes run on: uvloop when it is installed, asyncio's own otherwise.

The server and the bench's members spend most of their time in the loop's own machinery
(callbacks, futures, socket writes); uvloop does that work in C.
"""

from __future__ import annotations

import asyncio


def run_loop(main):
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)
