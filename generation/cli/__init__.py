"""The `memorial` command line: one group per area, each command's help shows an example."""

from __future__ import annotations

import click

from assets.errors import MemorialError


class MemorialGroup(click.Group):
    """Turns every MemorialError into one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MemorialError as exc:
            click.echo(f"memorial: error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=MemorialGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="memorial-vr")
@click.option("--verbose", "-v", is_flag=True,
              help="Also show the native libraries' own log lines (normally kept in the data folder's logs/native.log).")
def cli(verbose: bool) -> None:
    """Memorial VR: meet a lost relative again, as a clearly labelled AI-generated likeness.

    Data is kept encrypted under $MEMORIAL_HOME (default: your user data folder).
    Passphrases are asked for, or read from $MEMORIAL_PASSPHRASE in scripts.

    \b
    Start here:
      memorial subject consent-example > consent.toml   # fill it in
      memorial subject create rose --consent consent.toml
      memorial demo --out demo-output
    """


def _register() -> None:
    """Attach every command group; the imports are cheap (heavy libraries load inside commands)."""
    from . import demo, gan, ingest, room, session, shared_room, speech, subject, verify

    if "subject" in cli.commands:
        return
    subject.subject.add_command(ingest.fit)
    for command in (subject.subject, ingest.ingest, gan.train, gan.frames, gan.evaluate, verify.verify, demo.demo,
                    session.session, shared_room.room):  # session: therapist-guided; room: the shared room
        cli.add_command(command)
    room.register(cli)  # view, render
    speech.register(cli)  # say, drive, lipsync, memory, converse


def _verbose(argv: list[str]) -> bool:
    """`-v`/`--verbose` before the command name: show native libraries' own log lines too."""
    for word in argv:
        if not word.startswith("-"):
            return False
        if word in ("-v", "--verbose"):
            return True
    return False


def main(argv: list[str] | None = None) -> None:
    import sys

    from ..native_logs import route_native_logs_to_file

    args = list(sys.argv[1:] if argv is None else argv)
    if not _verbose(args):
        route_native_logs_to_file()
    _register()
    cli.main(args=args, prog_name="memorial")


