"""Run a room server until SIGINT/SIGTERM: the `memorial room serve` process."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from .access import room_keys
from .server import RoomServer, ServerConfig
from .store import FileOpLog


def open_log_factory(subject: str, store_key: bytes, redis_url: str | None, advertise=lambda: ""):
    """File logs by default; with `redis_url`, each room's log is a Redis stream under a lease."""
    if redis_url is None:
        return lambda room: FileOpLog(subject, room, store_key)
    from .redis_log import RedisOpLog, connect_redis

    client = connect_redis(redis_url)
    return lambda room: RedisOpLog(client, subject, room, store_key, advertise=advertise)


async def serve_forever(vault, config: ServerConfig, redis_url: str | None = None, ready=print) -> None:
    keys = room_keys(vault, create=True)
    server = RoomServer(config, vault, keys, lambda room: open_log(room))
    open_log = open_log_factory(vault.name, keys.store, redis_url, advertise=lambda: server.public_url)
    await server.start()
    scheme = "wss" if config.certfile else "ws"
    ready(f"room server for '{vault.name}' on {scheme}://{config.host}:{server.port}"
          + (" (scale-out via Redis)" if redis_url else ""))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.close()


def setup_logging(verbose: bool) -> None:
    """Our own room log (joins, refusals, drops) on stderr; the websockets library stays quiet."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s room: %(message)s", "%H:%M:%S"))
    logger = logging.getLogger("memorial.room")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False
    logging.getLogger("websockets").setLevel(logging.CRITICAL)
