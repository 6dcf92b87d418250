"""`memorial room …`: the shared memorial room — serve it, invite members, join it, measure it."""

from __future__ import annotations

import click

from assets.errors import PermissionDenied, UsageError
from ..vault.roles import Action
from .common import member_option, unlock


@click.group("room")
def room() -> None:
    """The shared memorial room: family members meet the likeness together.

    \b
    Example:
      memorial room serve rose &
      memorial room invite rose ben
      memorial room join rose --url ws://127.0.0.1:8765 --member ben --invite TOKEN
      memorial room join rose --url ws://127.0.0.1:8765 --member ben --invite TOKEN --microphone hw:1
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
    from vr_app.room.host import serve_forever, setup_logging
    from vr_app.room.loop import run_loop
    from vr_app.room.server import ServerConfig, ssl_context

    if (certfile is None) != (keyfile is None):
        raise UsageError("give both --cert and --key, or neither")
    config = ServerConfig(subject=name, host=host, port=port, certfile=certfile, keyfile=keyfile)
    ssl_context(config)  # refuse plain ws:// off loopback before asking for a passphrase
    vault = unlock(name, member, Action.SHARED_ROOM)
    _owner(vault)
    setup_logging(verbose)
    try:
        run_loop(serve_forever(vault, config, redis_url, ready=lambda line: click.echo(line)))
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


@room.command()
@click.argument("name")
@click.option("--url", required=True, help="The room server, e.g. ws://127.0.0.1:8765 (wss:// off loopback).")
@click.option("--room", "room_name", default="main", show_default=True, help="Which room of the subject.")
@click.option("--invite", default=None, help="An invite from `memorial room invite` (else your passphrase is asked).")
@click.option("--display", type=click.Choice(["auto", "desktop", "openxr"]), default="auto", show_default=True,
              help="openxr: a headset through the OpenXR runtime; desktop: a window; auto: headset if present.")
@click.option("--scene", default="garden", show_default=True, help="Memorial room look (garden, living_room, chapel).")
@click.option("--seconds", type=float, default=None, hidden=True, help="Quit after this many seconds (tests).")
@click.option("--screenshot", default=None, hidden=True, type=click.Path(dir_okay=False), help="Save the last frame (tests).")
@click.option("--microphone", default="default", show_default=True, metavar="DEVICE",
              help="ALSA capture device for your voice; 'off' to listen only (viewers always listen only).")
@member_option
def join(name: str, url: str, room_name: str, invite: str | None, display: str, scene: str, seconds: float | None,
         screenshot: str | None, microphone: str, member: str | None) -> None:
    """Join the shared room: other members as labelled avatars, the likeness, candles and notes.

    The likeness is sent by the server to joined members only and kept in memory.
    Keys: c light a candle in front of you, x put out your newest candle, n write a note
    (Enter leaves it), p place the next vault photo, esc leave.
    In a headset the trigger lights a candle. Members who may speak send their microphone;
    without one they listen only. Leaving stops the microphone and every sound at once.

    \b
    Example:
      memorial room join rose --url ws://127.0.0.1:8765 --member ben --invite TOKEN
      memorial room join rose --url ws://127.0.0.1:8765 --member ben --invite TOKEN --microphone hw:1
    """
    from scenes.spec import load as load_spec
    from vr_app.errors import DisplayUnavailable
    from vr_app.room.join import JoinOptions, run_desktop, run_openxr
    from vr_app.xr.display import choose_display

    from .common import ask_passphrase

    load_spec(scene)
    if not member:
        raise UsageError("say which member you are: --member NAME (or $MEMORIAL_MEMBER)")
    chosen, reason = choose_display(display)  # before any passphrase: no display, nothing asked
    click.echo(f"display: {chosen} — {reason}")
    if chosen == "none":
        raise DisplayUnavailable(reason)
    passphrase = None if invite else ask_passphrase(f"Passphrase of {member} for {name}")
    options = JoinOptions(url=url, member=member, room=room_name, invite=invite, passphrase=passphrase,
                          scene=scene, seconds=seconds, screenshot=screenshot,
                          microphone=None if microphone == "off" else microphone)
    if chosen == "openxr":
        run_openxr(options, echo=click.echo)
    else:
        run_desktop(options, echo=click.echo)


@room.command()
@click.option("--rooms", default=50, show_default=True, type=click.IntRange(1, 500), help="Rooms.")
@click.option("--clients", default=8, show_default=True, type=click.IntRange(1, 16), help="Simulated members per room.")
@click.option("--seconds", default=20.0, show_default=True, type=click.FloatRange(1, 3600), help="Measured duration.")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 8),
              help="Server processes (above 1 needs --redis; one is killed half-way).")
@click.option("--redis", "redis_url", default=None, metavar="URL", help="Redis for scale-out, e.g. redis://127.0.0.1:6379/0.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 16), help="Client processes.")
@click.option("--no-kill", is_flag=True, help="Scaled out: do not kill a process half-way.")
@click.option("--url", default=None, help="Measure a running server instead (loopback only; needs --subject).")
@click.option("--subject", default=None, help="With --url: the served subject (an owner's passphrase mints invites).")
@member_option
def bench(rooms: int, clients: int, seconds: float, processes: int, redis_url: str | None, workers: int,
          no_kill: bool, url: str | None, subject: str | None, member: str | None) -> None:
    """Measure the room server on loopback: pose latency, lost ops, CPU and upload per user.

    Uses a throwaway subject in a temporary folder; starts its own server process(es).
    Prints one closing line with the figures.

    \b
    Example:
      memorial room bench --rooms 50 --clients 8 --seconds 20
      memorial room bench --rooms 50 --clients 8 --seconds 20 --processes 3 --redis redis://127.0.0.1:6379/0
      memorial room bench --rooms 5 --clients 3 --url ws://127.0.0.1:8765 --subject rose
    """
    from vr_app.room.bench import run_bench

    target = None
    if url is not None:
        target = _bench_target(url, subject, member)
    result = run_bench(rooms, clients, seconds, processes=processes, redis_url=redis_url, workers=workers,
                       kill=False if no_kill else None, echo=lambda line: click.echo(line, err=True), target=target)
    for error in result.errors:
        click.echo(f"bench: {error}", err=True)
    import re

    kinds: dict[str, int] = {}
    for warning in result.server_warnings:
        kind = re.sub(r"ws://\S+|\b[rm]\d+\b|\d+", "N", warning)
        kinds[kind] = kinds.get(kind, 0) + 1
    for kind, count in sorted(kinds.items(), key=lambda kv: -kv[1])[:5]:
        click.echo(f"bench: server logged {count} x '{kind}'", err=True)
    click.echo(result.line())


def _bench_target(url: str, subject: str | None, member: str | None):
    """A running server to measure: only on loopback (the bench floods it), invites minted by an owner."""
    from urllib.parse import urlparse

    from vr_app.room.access import room_keys
    from vr_app.room.bench import Target
    from vr_app.room.server import is_loopback

    if not subject:
        raise UsageError("--url needs --subject NAME (the subject that server serves)")
    host = urlparse(url).hostname or ""
    if not is_loopback(host):
        raise UsageError(f"bench only measures servers on loopback, not {host or url}")
    with unlock(subject, member, Action.SHARED_ROOM) as vault:
        _owner(vault)
        members = [m for m, role in vault.members().items() if role != "viewer"]
        return Target(url=url, subject=subject, keys=room_keys(vault), members=members)
