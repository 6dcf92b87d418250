"""The memorial video: a real small render to mp4, decoded back with PyAV; every frame and the
sound go through the exporter; lips and voice stay aligned."""

from __future__ import annotations

import numpy as np
import pytest

from assets import expression
from assets.errors import ConsentError, UsageError
from vr_app.video import INTRO_S, parse_size, render_video

from .heads import make_track


def decode(path):
    import av

    with av.open(str(path)) as c:
        vs, aus = c.streams.video[0], c.streams.audio[0]
        info = {"fps": float(vs.average_rate), "size": (vs.width, vs.height), "rate": aus.rate,
                "channels": aus.channels, "codecs": (vs.codec_context.name, aus.codec_context.name)}
        frames, audio, audio_start = [], [], None
        for frame in c.decode(vs, aus):
            if isinstance(frame, av.VideoFrame):
                frames.append(frame.to_ndarray(format="rgb24"))
            else:
                if audio_start is None:
                    audio_start = float(frame.pts * frame.time_base)
                audio.append(frame.to_ndarray())  # [C,n] planar float
    return info, np.stack(frames), np.concatenate(audio, axis=1).T, max(audio_start or 0.0, 0.0)


def test_parse_size():
    assert parse_size("1280x720") == (1280, 720)
    for bad in ("1280", "12x720", "1281x720", "axb", "100000x100000"):
        with pytest.raises(UsageError):
            parse_size(bad)


def test_render_writes_a_labelled_h264_aac_mp4(room_vault, recorder, tmp_path):
    out = render_video(room_vault, "hello", tmp_path / "hello.mp4", scene="chapel", size=(160, 120), fps=15,
                       png_path=tmp_path / "still.png", exporter=recorder, progress=False)
    info, frames, audio, _ = decode(out)
    total = INTRO_S + recorder.notice_s + 1.0 + 0.5  # intro + spoken notice + the 1 s line + rest
    assert info["codecs"] == ("h264", "aac") and info["size"] == (160, 120) and info["fps"] == 15
    assert len(frames) == round(total * 15)
    assert info["rate"] == 48000 and info["channels"] == 2
    assert abs(len(audio) / 48000 - total) < 0.05
    assert len(recorder.boxes) == len(frames), "every frame goes through mark_image"
    assert recorder.audio_calls == 2, "both ears are marked (the exporter takes mono)"
    assert recorder.finalized == [(out, "video/mp4")]
    x0, y0, x1, y1 = recorder.boxes[-1]
    assert 40 < x0 < 80 < x1 < 120 and y1 > y0
    # The first frames are the dark intro card, later ones show the lit room.
    assert frames[0].mean() < 25 and frames[-1].mean() > frames[0].mean() + 10
    assert recorder.pngs and recorder.pngs[0][0].is_file()
    assert not list(tmp_path.glob(".*partial")), "no partial file left behind"


def test_mouth_and_voice_stay_aligned(room_vault, recorder, tmp_path):
    """A jaw opening and a voice burst at the same track time must land together in the mp4."""
    fps = 30
    track = make_track(1.2, fps=fps, audio_hz=0)
    on = slice(int(0.6 * fps), int(0.8 * fps))
    track.codes[on, expression.index("jaw_open")] = 1.0
    track.audio[:] = 0
    burst = np.random.default_rng(1).standard_normal(int(0.2 * track.sample_rate)) * 0.5
    track.audio[int(0.6 * track.sample_rate):int(0.6 * track.sample_rate) + len(burst)] = burst
    out = render_video(room_vault, track, tmp_path / "sync.mp4", scene="living_room", size=(160, 120), fps=fps,
                       exporter=recorder, progress=False)
    _, frames, audio, audio_start = decode(out)
    x0, y0, x1, y1 = recorder.boxes[-1]
    cw = (x1 - x0) // 3
    face = frames[:, (y0 + y1) // 2:y1, x0 + cw:x1 - cw].astype(int)  # lower middle of the face: the mouth
    intro = INTRO_S + recorder.notice_s
    ref = face[int((intro + 0.2) * fps)]
    change = np.abs(face - ref).sum(axis=(1, 2, 3))
    search = int((intro + 0.3) * fps)
    t_mouth = (search + int(np.argmax(change[search:] > 0.5 * change[search:].max()))) / fps
    env = np.sqrt(np.convolve((audio ** 2).mean(axis=1), np.ones(240) / 240, mode="same"))  # 5 ms RMS
    a0 = int((intro + 0.3 - audio_start) * 48000)
    t_voice = audio_start + (a0 + int(np.argmax(env[a0:] > 0.5 * env[a0:].max()))) / 48000
    assert t_mouth == pytest.approx(intro + 0.6, abs=1.5 / fps)
    assert abs(t_voice - t_mouth) < 0.045, f"audio/mouth offset {1000 * (t_voice - t_mouth):.0f} ms"


def test_render_needs_the_export_scope(make_subject, tmp_path, recorder):
    from assets.artifacts import KEYS

    from .heads import make_head

    vault = make_subject("ann", scopes=["private_viewing"])
    vault.put(KEYS["head"], make_head(3).to_bytes())
    vault.put("track/hello", make_track(0.5).to_bytes())
    with pytest.raises(ConsentError, match="video_export"):
        render_video(vault, "hello", tmp_path / "x.mp4", exporter=recorder, progress=False)
    assert not (tmp_path / "x.mp4").exists() and recorder.boxes == []


def test_bad_inputs_are_refused_before_rendering(room_vault, recorder, tmp_path):
    with pytest.raises(UsageError, match="no track named 'nope'.*hello"):
        render_video(room_vault, "nope", tmp_path / "x.mp4", exporter=recorder, progress=False)
    with pytest.raises(UsageError, match="unknown scene"):
        render_video(room_vault, "hello", tmp_path / "x.mp4", scene="moon", exporter=recorder, progress=False)
    with pytest.raises(UsageError, match=r"\.mp4"):
        render_video(room_vault, "hello", tmp_path / "x.avi", exporter=recorder, progress=False)
    with pytest.raises(UsageError, match="folder does not exist"):
        render_video(room_vault, "hello", tmp_path / "no" / "x.mp4", exporter=recorder, progress=False)
    assert recorder.boxes == [] and not list(tmp_path.glob("*.mp4")) and not list(tmp_path.glob("*.avi"))


def test_missing_head_is_a_clear_error(make_subject, tmp_path, recorder):
    vault = make_subject("bob")
    vault.put("track/hello", make_track(0.5).to_bytes())
    with pytest.raises(UsageError, match="no head model"):
        render_video(vault, "hello", tmp_path / "x.mp4", exporter=recorder, progress=False)


@pytest.mark.slow
def test_render_through_the_real_provenance_exporter(room_vault, tmp_path):
    pytest.importorskip("generation.provenance")
    out = render_video(room_vault, "hello", tmp_path / "real.mp4", scene="garden", size=(320, 180), fps=10,
                       png_path=tmp_path / "real.png", progress=False)
    info, frames, audio, _ = decode(out)
    assert info["codecs"] == ("h264", "aac") and len(frames) > 10 * (INTRO_S + 1.0)
    assert (tmp_path / "real.png").is_file()
    actions = [e.action for e in room_vault.audit_entries()]
    assert actions.count("export") >= 2, "the mp4 and the png are both logged as exports"


def test_videos_default_to_1280x720():
    """`memorial render`, render_video and the full demo agree on 1280x720 unless told otherwise."""
    import inspect
    from pathlib import Path

    from generation.cli.room import render
    from generation.demo import DemoOptions

    cli_default = next(p.default for p in render.params if p.name == "size")
    assert parse_size(cli_default) == inspect.signature(render_video).parameters["size"].default == (1280, 720)
    assert DemoOptions(out_dir=Path("demo")).size == (1280, 720)
