"""`memorial view` and `memorial render`: meet the likeness in a memorial room, or make a video of it."""

from __future__ import annotations

from pathlib import Path

import click

from assets.errors import UsageError
from ..vault.roles import Action
from .common import member_option, show_progress, unlock

SCENES = "garden, living_room, chapel, portrait_room"


def _track_for(vault, track: str | None, text: str | None):
    """A track name from the vault, or a new track spoken from authored text."""
    if text is not None:
        if not text.strip():
            raise UsageError("--text is empty")
        from ..speech import say_text

        return say_text(vault, text)
    return track


@click.command()
@click.argument("name")
@click.option("--scene", default="garden", show_default=True, help=f"Memorial room ({SCENES}) or a .toml path.")
@click.option("--track", "-t", "tracks", multiple=True, metavar="T",
              help="Line(s) to play, by track name; repeat for several ('n' goes to the next). Default: all.")
@click.option("--display", type=click.Choice(["auto", "openxr", "desktop"]), default="auto", show_default=True,
              help="openxr: a headset through the OpenXR runtime; desktop: a window; auto: headset if present.")
@click.option("--mirror", is_flag=True, help="Headset only: also show the left eye in a desktop window.")
@click.option("--standing", is_flag=True, help="Headset only: standing mode (teleport within the room).")
@click.option("--stats", is_flag=True, help="Headset only: print frame timing when the session ends.")
@click.option("--seconds", type=float, default=None, hidden=True, help="Quit after this many seconds (tests).")
@click.option("--screenshot", type=click.Path(dir_okay=False), default=None, hidden=True,
              help="Desktop only, with --seconds: save the window's last frame to this PNG (tests).")
@click.option("--session", "session_code", default=None, metavar="CODE",
              help="Join a therapist's session with the one-time code the console shows "
                   "(the session's plan then chooses the room and the lines).")
@click.option("--console", "console_url", default="ws://127.0.0.1:8765/ws/client", show_default=True, metavar="URL",
              help="With --session: where the therapist's console runs.")
@member_option
def view(name: str, scene: str, tracks: tuple[str, ...], display: str, mirror: bool, standing: bool, stats: bool,
         seconds: float | None, screenshot: str | None, session_code: str | None, console_url: str,
         member: str | None) -> None:
    """Open the memorial room in a window and meet the likeness.

    --display auto uses a headset when an OpenXR runtime reports one, else a window.
    Look around with the mouse. Keys: space play/pause, r replay, n next line,
    s subtitles on/off, +/- volume, esc quit. The label 'AI-generated likeness'
    stays on screen; a short intro card comes first.

    \b
    Example:
      memorial view rose --scene chapel --track hello
      memorial view rose --session K7QM-4XPD    # a therapist-guided session
    """
    if session_code is not None:
        if tracks:
            raise UsageError("with --session the plan chooses the lines; leave out --track")
        from .session import view_session

        return view_session(name, session_code, console_url, display, seconds, member)
    from scenes.spec import load as load_spec
    from vr_app import viewer
    from vr_app.errors import DisplayUnavailable
    from vr_app.inputs import line_textures, load_inputs, load_track, track_names
    from vr_app.xr.display import choose_display, memorial_scene_builder, run_openxr_view

    spec = load_spec(scene)
    chosen, reason = choose_display(display)  # before unlocking: no display, nothing decrypted
    click.echo(f"display: {chosen} — {reason}")
    if chosen == "none":
        raise DisplayUnavailable(f"{reason}; make a video with `memorial render` instead")
    with unlock(name, member, Action.VIEW) as vault:
        names = list(tracks) or track_names(vault)
        lines = [load_track(vault, t) for t in names]
        textures = line_textures(vault, names)  # each line's own generated frames
        inputs = load_inputs(vault, lines[0] if lines else None, texture=textures[0] if textures else None)
        vault.log("view", scene=spec.name, tracks=",".join(names), display=chosen)
    click.echo(f"Opening {spec.title}. {viewer.KEYS_HELP}")
    if chosen == "desktop":
        viewer.run(inputs, spec, lines, max_seconds=seconds, textures=textures, screenshot=screenshot)
    else:
        run_openxr_view(memorial_scene_builder(inputs, spec, lines[0] if lines else None),
                        seconds=seconds, stats=stats, mirror=mirror, standing=standing, echo=click.echo)


@click.command()
@click.argument("name")
@click.option("--text", default=None, help="Authored words for the likeness to say (needs the author right).")
@click.option("--track", "-t", default=None, metavar="T", help="A stored track to play instead of --text.")
@click.option("--scene", default="garden", show_default=True, help=f"Memorial room ({SCENES}) or a .toml path.")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output .mp4 file.")
@click.option("--size", default="1280x720", show_default=True, help="Video size WIDTHxHEIGHT (even numbers).")
@click.option("--fps", default=30, show_default=True, type=click.IntRange(1, 120), help="Frames per second.")
@click.option("--png", "png", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a still PNG of the likeness speaking.")
@click.option("--backend", type=click.Choice(["software", "gl"]), default="software", show_default=True,
              help="Offscreen renderer: software (p3tinydisplay) or gl (EGL, uses a GPU or Mesa).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar (it shows only on a terminal).")
@member_option
def render(name: str, text: str | None, track: str | None, scene: str, out: Path, size: str, fps: int,
           png: Path | None, backend: str, quiet: bool, member: str | None) -> None:
    """Render a labelled memorial video (H.264 + AAC mp4, binaural sound, subtitles).

    Every frame carries the 'AI-generated likeness' label and invisible watermark; the
    file gets content credentials. Needs the video-export consent scope.

    \b
    Example:
      memorial render rose --text "I am proud of you." --scene garden -o rose.mp4 --png rose.png
      memorial render rose --track hello --scene chapel -o hello.mp4 --size 640x360
    """
    from scenes.spec import load as load_spec
    from vr_app.video import parse_size, render_video

    if (text is None) == (track is None):
        raise UsageError("give exactly one of --text \"...\" or --track NAME")
    wh = parse_size(size)
    load_spec(scene)  # unknown scenes fail before the vault is opened
    if png is not None and png.suffix.lower() != ".png":
        raise UsageError(f"--png must end in .png, got {png.name!r}")
    with unlock(name, member, Action.EXPORT_VIDEO) as vault:
        trk = _track_for(vault, track, text)
        path = render_video(vault, trk, out, scene=scene, size=wh, fps=fps, png_path=png, backend=backend,
                            progress=show_progress(quiet))
    click.echo(f"Wrote {path}" + (f" and {png}" if png else ""))


def register(group: click.Group) -> None:
    group.add_command(view)
    group.add_command(render)
