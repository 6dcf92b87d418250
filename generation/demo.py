"""The end-to-end demonstration on the built-in subject.

vault → ingest (single-photo mode) → head fit → GAN (cpu-demo) → an authored line (TTS +
lip sync) → expression frames → labelled memorial video + still → verification.
Stages whose result is already in the vault are reused, so a second run is quick.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from assets import default_subject
from assets.artifacts import KEYS
from assets.errors import SubjectNotFound
from .summary import subject_summary
from .vault import Vault, create_vault, open_vault
from .vault.consent import parse_consent

# Written by the project, not by her: the demo says so in its own words.
DEMO_LINE = ("Hello. This is a demonstration of Memorial VR, made from a single public-domain portrait. "
             "These words were written by the project, not by her.")
TRACK_NAME = "demo-line"
CHECKPOINT_KEY = KEYS["checkpoint"].format(name="current")


@dataclass(frozen=True)
class DemoOptions:
    out_dir: Path
    quick: bool = False  # few training steps and a small video: a smoke run for checks
    retrain: bool = False
    scene: str = "garden"
    progress: bool = True

    @property
    def train_steps(self) -> int | None:
        return 40 if self.quick else None  # None: the cpu-demo preset's own length

    @property
    def size(self) -> tuple[int, int]:
        return (320, 180) if self.quick else (1280, 720)

    @property
    def fps(self) -> int:
        return 15 if self.quick else 30


def open_or_create_demo_subject(say: Callable[[str], None]) -> Vault:
    passphrase = os.environ.get("MEMORIAL_PASSPHRASE") or default_subject.PASSPHRASE
    try:
        vault = open_vault(default_subject.NAME, passphrase)
        say(f"Using the existing demo subject '{default_subject.NAME}'.")
    except SubjectNotFound:
        record = parse_consent(default_subject.consent_text(), source="default_consent.toml")
        vault = create_vault(default_subject.NAME, record, default_subject.OWNER, passphrase)
        say(f"Created the demo subject '{default_subject.NAME}' (owner '{default_subject.OWNER}').")
    return vault


class _Steps:
    """Numbered, timed step headings."""

    def __init__(self, say: Callable[[str], None], total: int):
        self.say, self.total, self.n, self.t0 = say, total, 0, time.perf_counter()

    def __call__(self, title: str) -> None:
        self.n += 1
        self.say(f"\n[{self.n}/{self.total}] {title}  (t={time.perf_counter() - self.t0:.0f}s)")


def run_demo(options: DemoOptions, say: Callable[[str], None]) -> dict[str, Path]:
    from .gan import generate_frames, train_subject
    from .ingest import fit_subject, ingest_paths
    from .ingest.dataset import dataset_lines, stored_dataset_lines
    from .provenance.demo_checks import check_outputs
    from .speech import say_text
    from vr_app.video import render_video

    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    step = _Steps(say, 6)
    with open_or_create_demo_subject(say) as vault:
        portrait = default_subject.portrait_path()
        step("Ingest: the portrait into the encrypted vault, face, head model, single-photo album")
        if vault.exists(KEYS["dataset"]) and vault.exists(KEYS["head"]):
            say("Dataset and head model already in the vault.")
            for line in stored_dataset_lines(vault):
                say(line)
        else:
            report = ingest_paths(vault, [portrait], progress=options.progress)
            for line in report.lines():
                say(line)
            ds, head = fit_subject(vault, progress=options.progress)
            for line in dataset_lines(ds, head):
                say(line)

        step("Train the subject's GAN (preset cpu-demo)")
        if vault.exists(CHECKPOINT_KEY) and not options.retrain and not options.quick:
            say(f"Reusing the trained generator ({CHECKPOINT_KEY}); --retrain trains again.")
        else:
            train_subject(vault, preset="cpu-demo", steps=options.train_steps, seed=0, progress=options.progress)

        step("Speak an authored line (neural TTS, phoneme-timed lip sync, idle motion)")
        say(f'"{DEMO_LINE}"')
        track = say_text(vault, DEMO_LINE, name=TRACK_NAME)
        say(f"Track: {track.duration:.1f} s at {track.fps:g} fps, {len(track.phonemes)} phonemes.")

        step("Expression frames from the GAN")
        frames = generate_frames(vault, TRACK_NAME, CHECKPOINT_KEY)
        say(f"{len(frames.frames)} textures of {frames.frames.shape[1]}x{frames.frames.shape[2]} px.")

        step(f"Render the memorial video in the {options.scene} (labelled, watermarked, signed)")
        video, still = out / "memorial.mp4", out / "memorial.png"
        for stale in (video, still):
            stale.unlink(missing_ok=True)
        render_video(vault, TRACK_NAME, video, scene=options.scene, size=options.size, fps=options.fps,
                     frames_key=KEYS["frames"].format(name=TRACK_NAME), png_path=still, progress=options.progress)

        step("Verify the outputs, and show that altered copies are caught")
        with tempfile.TemporaryDirectory(prefix="memorial-demo-copies-") as scratch:
            reports = check_outputs([video, still], Path(scratch), echo=say)
        for report in reports:
            say(f"{Path(report.path).name}: {'OK' if report.ok else 'NOT OK'}")
        say("")
        say(subject_summary(vault))
    say("")
    say(f"Video: {video.resolve()}")
    say(f"Still: {still.resolve()}")
    say("Both are labelled 'AI-generated likeness'; check any copy with `memorial verify FILE`.")
    return {"video": video, "still": still}
