"""The memorial video: offscreen frames of the room + binaural voice and ambience, H.264 + AAC mp4.

Every frame and the audio pass through the provenance Exporter (visible label, invisible
watermarks, spoken AI notice, C2PA credentials). The spoken notice is prepended to the
audio, so the intro card is held for as long as the notice lasts and lips stay on time.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from assets.artifacts import ExpressionTrack

from . import ambience, binaural
from .errors import UsageError

AUDIO_RATE = binaural.OUT_RATE
INTRO_S = 2.0
MAX_PIXELS = 3840 * 2160


def parse_size(text: str) -> tuple[int, int]:
    """'1280x720' -> (1280, 720); even sizes only (H.264 4:2:0 needs them)."""
    try:
        w, h = (int(x) for x in str(text).lower().split("x"))
    except ValueError:
        raise UsageError(f"bad size {text!r}: use WIDTHxHEIGHT, e.g. 1280x720") from None
    if w < 64 or h < 64 or w * h > MAX_PIXELS or w % 2 or h % 2:
        raise UsageError(f"bad size {text!r}: width and height must be even, at least 64, at most 3840x2160")
    return w, h


def mix_audio(scene, track: ExpressionTrack | None, total_s: float, intro_s: float) -> np.ndarray:
    """Binaural voice from the mouth's position + the room's ambience, [S,2] float32 at AUDIO_RATE."""
    n = int(round(total_s * AUDIO_RATE))
    spec = scene.room.spec
    out = ambience.synthesize(spec.ambience, total_s, AUDIO_RATE, spec.ambience_db)[:n]
    if track is not None and track.audio is not None and len(track.audio):
        voice = binaural.render(track.audio, track.sample_rate, scene.mouth_relative_to_camera(), AUDIO_RATE)
        i0 = int(round(intro_s * AUDIO_RATE))
        m = min(len(voice), n - i0)
        if m > 0:
            out[i0:i0 + m] += voice[:m]
    return np.clip(out, -1, 1).astype(np.float32)


def _stereo(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return np.stack([x, x], axis=1) if x.ndim == 1 else x


def mark_stereo(ex, stereo: np.ndarray) -> np.ndarray:
    """The exporter marks mono sound: mark each ear's channel, so both carry the watermark and the
    spoken notice (identical in both ears, so it sounds centred, like a narrator)."""
    assert stereo.ndim == 2 and stereo.shape[1] == 2, stereo.shape
    left = np.asarray(ex.mark_audio(stereo[:, 0], AUDIO_RATE), np.float32)
    right = np.asarray(ex.mark_audio(stereo[:, 1], AUDIO_RATE), np.float32)
    n = min(len(left), len(right))
    return np.stack([left[:n], right[:n]], axis=1)


def encode_mp4(path: Path, frames, n_frames: int, fps: int, size: tuple[int, int], audio: np.ndarray,
               progress: bool = True) -> None:
    """Write H.264 (yuv420p) + AAC stereo to `path`; `frames` yields RGB uint8 [H,W,3]."""
    import av
    from tqdm import tqdm

    w, h = size
    audio = _stereo(audio)
    assert audio.ndim == 2 and audio.shape[1] == 2, audio.shape
    with av.open(str(path), mode="w", format="mp4") as container:
        vs = container.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"crf": "20", "preset": "veryfast"}
        aus = container.add_stream("aac", rate=AUDIO_RATE)
        aus.layout = "stereo"
        aus.bit_rate = 128000
        for rgb in tqdm(frames, total=n_frames, desc="render", unit="frame", disable=not progress, leave=False):
            assert rgb.shape == (h, w, 3), rgb.shape
            for packet in vs.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in vs.encode():
            container.mux(packet)
        planar = np.ascontiguousarray(audio.T)  # [2,S] fltp
        for start in range(0, planar.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(planar[:, start:start + 1024], format="fltp", layout="stereo")
            frame.sample_rate = AUDIO_RATE
            frame.pts = start
            for packet in aus.encode(frame):
                container.mux(packet)
        for packet in aus.encode():
            container.mux(packet)


def make_exporter(vault):
    from generation.provenance import Exporter

    return Exporter(vault, command="render", kind="video", locale=None)


def render_video(vault, track, out_path, scene: str = "garden", size=(1280, 720), fps: int = 30,
                 frames_key: str | None = None, png_path=None, backend: str = "software", exporter=None,
                 progress: bool = True) -> Path:
    """Render `track` (a name in the vault or an ExpressionTrack) in `scene` to a labelled mp4.

    Needs the export scope. Returns the mp4 path; writes a still PNG too when `png_path` is given.
    """
    from generation.vault.roles import Action
    from scenes.spec import load as load_spec

    from .inputs import load_inputs
    from .offscreen import OffscreenRenderer
    from .scene import MemorialScene

    vault.authorize(Action.EXPORT_VIDEO)
    out_path = Path(out_path)
    if out_path.suffix.lower() != ".mp4":
        raise UsageError(f"output must be an .mp4 file, got {out_path.name!r}")
    if not out_path.parent.is_dir():
        raise UsageError(f"output folder does not exist: {out_path.parent}")
    if not (1 <= int(fps) <= 120):
        raise UsageError(f"bad fps {fps}: use 1..120")
    spec = load_spec(scene)
    inputs = load_inputs(vault, track, frames_key)
    if inputs.track is None:
        raise UsageError("a video needs a track: give --track NAME or --text")
    ex = exporter if exporter is not None else make_exporter(vault)

    with OffscreenRenderer(tuple(size), backend=backend) as renderer:
        renderer.buffer.set_clear_color((*spec.background, 1))
        sc = MemorialScene(renderer.stage, spec, inputs.head, inputs.texture, inputs.track, inputs.photos,
                           title=inputs.title, intro_s=INTRO_S, bust=inputs.bust)
        if getattr(ex, "draws_label", False) or hasattr(ex, "label_box"):
            sc.overlay.label_np.hide()  # the exporter stamps its own, larger label on every frame
        body = INTRO_S + inputs.track.duration + sc.timeline.tail_s
        mix = mix_audio(sc, inputs.track, body, INTRO_S)
        marked = mark_stereo(ex, mix)
        lead = max(0.0, (len(marked) - len(mix)) / AUDIO_RATE)  # the spoken notice the exporter put in front
        sc.timeline.intro_s = INTRO_S + lead
        total_s = len(marked) / AUDIO_RATE
        n_frames = max(1, int(math.ceil(total_s * fps - 1e-6)))

        def frames():
            for i in range(n_frames):
                sc.update(i / fps)
                yield ex.mark_image(renderer.frame(), face_box=sc.face_box())

        tmp = out_path.with_name(f".{out_path.name}.partial")
        try:
            encode_mp4(tmp, frames(), n_frames, int(fps), tuple(size), marked, progress=progress)
            os.replace(tmp, out_path)
        finally:
            tmp.unlink(missing_ok=True)
        ex.finalize(out_path, "video/mp4")
        if png_path is not None:
            sc.update(sc.timeline.intro_s + 0.5 * inputs.track.duration)
            ex.write_png(Path(png_path), renderer.frame(), face_box=sc.face_box())  # write_png marks it
    return out_path
