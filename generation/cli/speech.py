"""`memorial say`, `drive`, `lipsync train`, `memory add|list|remove`, `converse`: tracks for a subject."""

from __future__ import annotations

from pathlib import Path

import click

from assets.errors import UsageError
from .common import member_option, unlock


def _progress():
    from functools import partial

    from tqdm import tqdm

    return partial(tqdm, leave=False, disable=None)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None


def _check_free(vault, name: str, replace: bool) -> str:
    from ..speech.track import track_key

    key = track_key(name)
    if vault.exists(key) and not replace:
        raise UsageError(f"a track named {name!r} exists; pass --replace to overwrite it or choose another --name")
    return key


def _report(track, key: str) -> None:
    click.echo(f"Stored {key}: {track.duration:.2f} s at {track.fps:g} fps, {len(track.codes)} frames, "
               f"source {track.source}.")
    for k in ("voice", "timings", "mouth", "method", "av_offset_ms"):
        if k in track.meta:
            click.echo(f"  {k.replace('_', ' ')}: {track.meta[k]}")


@click.command()
@click.argument("name")
@click.argument("text", required=False)
@click.option("--audio", "audio_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Replay the person's own recording (WAV, FLAC, MP3, ...) instead of speaking text.")
@click.option("--voice", default=None, metavar="V",
              help="Piper voice file (.onnx with its .onnx.json), or 'espeak[:LANG]'. Default: the packaged voice.")
@click.option("--name", "track_name", default=None, help="Track name in the vault (default: line, or recording).")
@click.option("--replace", is_flag=True, help="Overwrite a track with the same name.")
@click.option("--seed", default=0, show_default=True, help="Seed of the idle motion (blinks, sway).")
@member_option
def say(name: str, text: str | None, audio_file: Path | None, voice: str | None, track_name: str | None,
        replace: bool, seed: int, member: str | None) -> None:
    """Make the subject speak an authored line, or replay their own recording, as a track.

    TEXT may carry markup: [pause 0.5] waits half a second, [smile] ... [/smile] smiles
    gently (a smile also ends with its sentence). Only family members and therapists may
    author lines; replaying a recording needs voice consent.

    \b
    Example:
      memorial say rose "Hello, my dear. [smile] I am so proud of you."
      memorial say rose "Sleep well. [pause 0.5] See you soon." --name goodnight
      memorial say rose --audio birthday-message.wav --name birthday
    """
    from ..vault.roles import Action

    if (text is None) == (audio_file is None):
        raise UsageError("give either TEXT to speak or --audio FILE to replay, not both or neither")
    if audio_file is not None:
        if voice:
            raise UsageError("--voice applies to TEXT only; a recording keeps the person's own voice")
        data = _read(audio_file, "audio file")
        with unlock(name, member, Action.USE_VOICE) as vault:
            key = _check_free(vault, track_name or "recording", replace)
            from ..speech.recording import recording_track
            from ..speech.track import store

            track = recording_track(vault, data, label=audio_file.name, seed=seed)
            track.meta["file"] = audio_file.name
            store(vault, track, track_name or "recording")
            vault.log("track_from_recording", track=key, file=audio_file.name, duration_s=round(track.duration, 2))
            _report(track, key)
        return
    from ..speech.tts import validate_line

    validate_line(text)
    with unlock(name, member, Action.AUTHOR) as vault:
        key = _check_free(vault, track_name or "line", replace)
        from ..speech import say_text

        track = say_text(vault, text, name=track_name or "line", voice=voice, seed=seed, progress=_progress())
        _report(track, key)


@click.command()
@click.argument("name")
@click.argument("video", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", "track_name", default=None, help="Track name in the vault (default: the video's name).")
@click.option("--replace", is_flag=True, help="Overwrite a track with the same name.")
@member_option
def drive(name: str, video: Path, track_name: str | None, replace: bool, member: str | None) -> None:
    """Capture expression and head motion from a driving video, retargeted to the subject.

    The driver's face is measured against its own rest and range, then scaled into the
    range the subject is seen making, so a big-mouthed driver never tears the subject's
    face. The driver's voice is not kept.

    \b
    Example:
      memorial drive rose my-reading.mp4 --name reading
    """
    from ..vault.roles import Action

    track_name = track_name or _safe_name(video.stem)
    data = _read(video, "video")
    with unlock(name, member, Action.AUTHOR) as vault:
        key = _check_free(vault, track_name, replace)
        from ..speech.drive import drive_track
        from ..speech.track import store

        from assets import vault_door

        profile = vault_door.read_optional(vault, "profile")
        subject_codes = profile.codes if profile is not None else None
        track = drive_track(data, subject_codes, progress=_progress(), label=video.name)
        store(vault, track, track_name)
        vault.log("track_from_video", track=key, file=video.name, frames=len(track.codes))
        _report(track, key)


def _safe_name(stem: str) -> str:
    import re

    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-_") or "video"
    return cleaned[:60]


@click.group()
def lipsync() -> None:
    """The subject's own audio -> expression model (for replaying their recordings).

    \b
    Example:
      memorial lipsync train rose
    """


@lipsync.command("train")
@click.argument("name")
@click.option("--steps", default=400, show_default=True, help="Training steps.")
@click.option("--seed", default=0, show_default=True, help="Draws the priors' and adaptations' starts and batches; the same seed gives the "
              "same model.")
@click.option("--speaker-independent", is_flag=True,
              help="Store the speaker-independent model alone, without the person's video (for someone filmed "
                   "talking for too short a time, or never): it follows real mouths better than the signal-based "
                   "mouth `say --audio` uses when no model is stored.")
@member_option
def lipsync_train(name: str, steps: int, seed: int, speaker_independent: bool, member: str | None) -> None:
    """Train the audio -> expression model on the subject's ingested talking videos.

    Six speaker-independent priors are first trained on speech synthesised here, then each
    is adapted to every frame of the person's videos and the six are averaged; a few
    seconds of video are enough (at least 60 frames). How far the person's mouth runs ahead
    of the sound is measured on their own video and kept with the model, and so is how far
    their lips part when they breathe between phrases.

    \b
    Example:
      memorial lipsync train rose --steps 400
      memorial lipsync train rose --speaker-independent
    """
    from ..vault.roles import Action

    with unlock(name, member, Action.TRAIN) as vault:
        vault.authorize(Action.USE_VOICE)
        from ..speech.recording import train_speaker_independent, train_subject_model

        if speaker_independent:
            figures = train_speaker_independent(vault, progress=_progress(), seed=seed)
            click.echo(f"Stored the speaker-independent model ({figures['members']} priors averaged, trained on "
                       f"synthesised speech; none of the person's video used); the mouth leads the sound by "
                       f"{figures['lead_ms']} ms.")
            return
        figures = train_subject_model(vault, steps=steps, progress=_progress(), seed=seed)
        click.echo(f"Trained on {figures['frames']} frames from {figures['videos']} video(s); "
                   f"held-out jaw correlation {figures['heldout_jaw_corr']:.2f}; "
                   f"the mouth leads the sound by {figures['lead_ms']} ms; "
                   f"breathing opening {figures['breath_jaw']:.2f}.")




@click.group()
def memory() -> None:
    """The memory bank: what the person would say, written down by family or a therapist.

    \b
    Example:
      memorial memory add rose "It was Moon River, of course." --cue "What was your favourite song?"
      memorial memory list rose
    """


@memory.command("add")
@click.argument("name")
@click.argument("text")
@click.option("--kind", type=click.Choice(["answer", "saying", "story", "greeting", "fallback"]), default="answer",
              show_default=True, help="What kind of memory; 'fallback' is said when nothing else fits.")
@click.option("--cue", default="", help="The question or topic it answers (needed for answers).")
@click.option("--tag", "tags", multiple=True, help="Keywords that help find it (repeatable).")
@member_option
def memory_add(name: str, text: str, kind: str, cue: str, tags: tuple[str, ...], member: str | None) -> None:
    """Add a memory with your name and today's date.

    \b
    Example:
      memorial memory add rose "Hello, love. How was your day?" --kind greeting --cue "hello"
      memorial memory add rose "I am not sure, dear. Tell me more." --kind fallback
    """
    from ..speech import memory as mem
    from ..vault.roles import Action

    with unlock(name, member, Action.AUTHOR) as vault:
        m = mem.add(vault, text, kind, cue, list(tags))
        click.echo(f"Added memory {m.id} ({m.kind}) by {m.author} on {m.date}.")


@memory.command("list")
@click.argument("name")
@member_option
def memory_list(name: str, member: str | None) -> None:
    """List the memories with id, kind, author and date.

    \b
    Example:
      memorial memory list rose
    """
    from ..speech import memory as mem
    from ..vault.roles import Action

    with unlock(name, member, Action.VIEW) as vault:
        bank = mem.load_bank(vault)
        if not bank:
            click.echo("The memory bank is empty.")
        for m in bank:
            cue = f"  [cue: {m.cue}]" if m.cue else ""
            click.echo(f"{m.id}  {m.kind:<8} {m.date}  {m.author:<10} {m.text}{cue}")


@memory.command("remove")
@click.argument("name")
@click.argument("memory_id")
@member_option
def memory_remove(name: str, memory_id: str, member: str | None) -> None:
    """Remove one memory by its id.

    \b
    Example:
      memorial memory remove rose 3f9a12bc
    """
    from ..speech import memory as mem
    from ..vault.roles import Action

    with unlock(name, member, Action.AUTHOR) as vault:
        m = mem.remove(vault, memory_id)
        click.echo(f"Removed memory {m.id}: {m.text[:60]}")


@click.command()
@click.argument("name")
@click.option("--audio", "audio_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The spoken question (WAV, FLAC, MP3, ...); recognised offline.")
@click.option("--text", "question", default=None, help="The question as text instead of audio.")
@click.option("--voice", default=None, metavar="V", help="Piper voice file or 'espeak[:LANG]'.")
@click.option("--name", "track_name", default="reply", show_default=True, help="Track name (replaced each turn).")
@member_option
def converse(name: str, audio_file: Path | None, question: str | None, voice: str | None, track_name: str,
             member: str | None) -> None:
    """Ask a question; the likeness answers with the closest memory the family wrote.

    Nothing is generated: the reply is always a written memory, or the authored fallback.

    \b
    Example:
      memorial converse rose --audio question.wav
      memorial converse rose --text "What was your favourite song?"
    """
    from ..vault.roles import Action

    if (audio_file is None) == (question is None):
        raise UsageError("give either --audio FILE or --text QUESTION")
    audio = None
    if audio_file is not None:
        from ..speech.audio_io import decode

        audio = decode(_read(audio_file, "audio file"), audio_file.name)
    with unlock(name, member, Action.VIEW) as vault:
        if audio is not None:
            from ..speech.asr import load, transcribe

            if load().fallback_reason:
                click.echo(f"Note: hearing with {load().name} ({load().fallback_reason}); expect more misheard words")
            question = transcribe(*audio)
            click.echo(f"Heard: {question or '(nothing recognised)'}")
        from ..speech.conversation import reply
        from ..speech.track import track_key

        track, chosen = reply(vault, question, track_name, voice, progress=_progress())
        click.echo(f"Answer ({chosen.kind} by {chosen.author}, {chosen.date}; score {track.meta['score']:.2f}): "
                   f"{chosen.text}")
        _report(track, track_key(track_name))


def register(cli: click.Group) -> None:
    for command in (say, drive, lipsync, memory, converse):
        cli.add_command(command)
