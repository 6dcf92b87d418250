"""`memorial room …`: the shared memorial room — serve it, invite members, join it, measure it."""

from __future__ import annotations

import click

from ..errors import PermissionDenied, UsageError
from ..vault.roles import Action
from .common import member_option, unlock


@click.group("room")
def room() -> None:
    """The shared memorial room: family members meet the likeness together.

    \b
    Example:
      memorial room serve rose &
      memorial room invite rose ben
      memorial room join rose --url ws://127.0.0.1:8765 --invite TOKEN
    """


def _owner(vault) -> None:
    if vault.role != "owner":
        vault.close()
        raise PermissionDenied(f"only an owner may do this (you are '{vault.role}')")


@room.command()
@click.argument("name")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (TLS needed off loopback).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free one).")
@click.option("--redis", "redis_url", default=None, metavar="URL",
              help="Scale out: keep op logs in Redis streams, one room per process under a lease.")
@click.option("--cert", "certfile", default=None, type=click.Path(exists=True, dir_okay=False), help="TLS certificate (PEM).")
@click.option("--key", "keyfile", default=None, type=click.Path(exists=True, dir_okay=False), help="TLS private key (PEM).")
@click.option("--log", "verbose", is_flag=True, help="Log every join and leave, not only refusals and drops.")
@member_option
def serve(name: str, host: str, port: int, redis_url: str | None, certfile: str | None, keyfile: str | None,
          verbose: bool, member: str | None) -> None:
    """Serve the subject's shared rooms until interrupted (an owner's passphrase unlocks the vault).

    Ops (candles, notes, photos, lines) are written encrypted and fsync'd before they are
    acknowledged; they survive restarts and kill -9.

    \b
    Example:
      memorial room serve rose --port 8765
      memorial room serve rose --host 0.0.0.0 --cert room.pem --key room.key
    """
    import asyncio

    from vr_app.room.host import serve_forever, setup_logging
    from vr_app.room.server import ServerConfig, ssl_context

    if (certfile is None) != (keyfile is None):
        raise UsageError("give both --cert and --key, or neither")
    config = ServerConfig(subject=name, host=host, port=port, certfile=certfile, keyfile=keyfile)
    ssl_context(config)  # refuse plain ws:// off loopback before asking for a passphrase
    vault = unlock(name, member, Action.SHARED_ROOM)
    _owner(vault)
    setup_logging(verbose)
    try:
        asyncio.run(serve_forever(vault, config, redis_url, ready=lambda line: click.echo(line)))
    finally:
        vault.close()


@room.command()
@click.argument("name")
@click.argument("invitee")
@click.option("--hours", default=24.0, show_default=True, type=click.FloatRange(0.01, 24 * 30), help="Valid for this long.")
@member_option
def invite(name: str, invitee: str, hours: float, member: str | None) -> None:
    """Print a single-use, expiring, signed invite for one member (owners only).

    \b
    Example:
      memorial room invite rose ben --hours 2
    """
    from vr_app.room.access import make_invite, room_keys

    with unlock(name, member, Action.SHARED_ROOM) as vault:
        _owner(vault)
        if invitee not in vault.members():
            raise UsageError(f"'{invitee}' is not a member of '{name}' (add them with `memorial subject member add`)")
        token = make_invite(room_keys(vault, create=True), name, invitee, ttl=hours * 3600)
        vault.log("room_invite", invitee=invitee, hours=hours)
    click.echo(token)


def register(group: click.Group) -> None:
    group.add_command(room)
