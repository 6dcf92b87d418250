"""The `memorial` command line: one group per area, each command's help shows an example."""

from __future__ import annotations

import sys

import click

from ..errors import MemorialError


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
def cli() -> None:
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
    from . import demo, subject

    cli.add_command(subject.subject)
    cli.add_command(demo.demo)
    from . import room; room.register(cli)  # noqa: E702  (view, render)
    from . import speech; speech.register(cli)  # noqa: E702
    from . import gan; [cli.add_command(c) for c in (gan.train, gan.frames, gan.evaluate)]  # noqa: E702
    from . import ingest; cli.add_command(ingest.ingest); subject.subject.add_command(ingest.fit)  # noqa: E702
    from . import verify; cli.add_command(verify.verify)  # noqa: E702


def main(argv: list[str] | None = None) -> None:
    _register()
    cli.main(args=argv, prog_name="memorial")


