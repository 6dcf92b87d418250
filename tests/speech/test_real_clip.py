"""The shared real talking clip through ingest: every frame's mouth on the voice's clock."""

import numpy as np
import pytest

from tests.benchmarks import motion_clip

pytestmark = pytest.mark.skipif(not motion_clip.available(),
                                reason=f"{motion_clip.CLIP} is absent (shared real media not mounted)")


@pytest.mark.slow
def test_every_frame_of_an_ingested_talking_video_on_the_voice_clock(make_subject, tmp_path):
    from generation.ingest import ingest_paths
    from generation.speech import recording, sync

    split = motion_clip.split(tmp_path)
    assert len(split.heldout_frames) == 50 and split.fps == 25.0
    vault = make_subject("her")
    ingest_paths(vault, [split.train_mp4], progress=False)
    (video,) = recording.talking_videos(vault)
    # every frame, not ingest's few expressive samples, with its own timestamp
    assert len(video.times) == 150
    assert np.allclose(np.diff(video.times), 0.04, atol=1e-3) and video.times[0] == pytest.approx(0.0, abs=1e-3)
    # the re-encoded voice (AAC, priming samples) starts where the picture starts: same envelope
    # as the original clip's first 6 s at zero lag, to one 5 ms analysis step
    import av

    with av.open(str(motion_clip.CLIP)) as c:
        res = av.AudioResampler(format="flt", layout="mono", rate=video.sample_rate)
        original = np.concatenate([o.to_ndarray().reshape(-1) for f in c.decode(c.streams.audio[0])
                                   for o in res.resample(f)])[:len(video.audio)]
    a, b = sync.envelope(original, video.sample_rate), sync.envelope(video.audio, video.sample_rate)
    n = min(len(a), len(b)) - 20
    lags = range(-10, 11)
    best = max(lags, key=lambda k: np.dot(a[10:n], b[10 + k:n + k]))
    assert abs(best) <= 1


def test_the_real_clip_has_one_breath_pause_and_short_gaps_are_not_breaths():
    """Her 8 s: the gaps inside phrases (about 0.3 s, where her lips close) are no breath;
    the one long silence (about 6.35-7.25 s, lips parted on her video) is."""
    import av

    from generation.speech import breath

    with av.open(str(motion_clip.CLIP)) as c:
        stream = c.streams.audio[0]
        res = av.AudioResampler(format="flt", layout="mono", rate=stream.rate)
        audio = np.concatenate([o.to_ndarray().reshape(-1) for f in c.decode(stream) for o in res.resample(f)])
    (span,) = breath.pauses(audio, stream.rate)
    assert span[0] == pytest.approx(6.35, abs=0.1) and span[1] == pytest.approx(7.25, abs=0.1)
    assert len(breath.pauses(audio, stream.rate, min_s=0.2)) >= 3  # the shorter gaps exist, and are left alone
