"""The typed artifacts between stages: byte round trips, and refusals of the wrong kind, version or code."""

from __future__ import annotations

import numpy as np
import pytest

from assets import artifacts as A
from assets import expression


def _track(t: int = 12) -> A.ExpressionTrack:
    rng = np.random.default_rng(0)
    return A.ExpressionTrack(fps=30, codes=expression.clip(rng.uniform(-1, 1, (t, expression.E))),
                             pose=rng.normal(size=(t, 6)).astype(np.float32), source="text",
                             audio=rng.uniform(-1, 1, 800).astype(np.float32), sample_rate=16000,
                             phonemes=[(0.0, 0.1, "h", "sil"), (0.1, 0.3, "a", "aa")], text="ha")


def test_track_round_trip_and_interpolation():
    track = _track()
    back = A.ExpressionTrack.from_bytes(track.to_bytes())
    assert np.array_equal(back.codes, track.codes) and np.array_equal(back.audio, track.audio)
    assert back.phonemes == track.phonemes and back.sample_rate == 16000 and back.text == "ha"
    middle = back.code_at(1.5 / 30)
    assert np.allclose(middle, (track.codes[1] + track.codes[2]) / 2)
    assert np.array_equal(back.code_at(99.0), track.codes[-1])


def test_frames_and_head_round_trip():
    frames = A.FrameSequence(fps=25, frames=np.arange(2 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 4, 4, 3))
    assert np.array_equal(A.FrameSequence.from_bytes(frames.to_bytes()).frames, frames.frames)
    v = 478
    shapes = np.zeros((expression.E, v, 3), np.float32)
    shapes[expression.index("jaw_open"), 0] = (0, -0.01, 0)
    head = A.HeadModel(vertices=np.ones((v, 3), np.float32), faces=np.array([[0, 1, 2]], np.int32),
                       uvs=np.zeros((v, 2), np.float32), blendshapes=shapes,
                       landmark_vertices=np.arange(478, dtype=np.int32), regions={"mouth": [0]})
    back = A.HeadModel.from_bytes(head.to_bytes())
    assert back.regions == {"mouth": [0]}
    moved = back.deform(expression.from_dict({"jaw_open": 0.5}))
    assert np.allclose(moved[0], (1, 0.995, 1)) and np.array_equal(moved[1:], head.vertices[1:])


def test_wrong_kind_version_code_and_garbage_are_refused(monkeypatch):
    data = _track().to_bytes()
    with pytest.raises(A.ArtifactError, match="expected a FrameSequence"):
        A.FrameSequence.from_bytes(data)
    with pytest.raises(A.ArtifactError, match="not a ExpressionTrack"):
        A.ExpressionTrack.from_bytes(b"not an npz at all")
    monkeypatch.setattr(A.ExpressionTrack, "VERSION", 2)
    with pytest.raises(A.ArtifactError, match="version 1 is not supported"):
        A.ExpressionTrack.from_bytes(data)
    monkeypatch.setattr(A.ExpressionTrack, "VERSION", 1)
    monkeypatch.setattr(expression, "NAMES", expression.NAMES[::-1])
    with pytest.raises(A.ArtifactError, match="another expression code"):
        A.ExpressionTrack.from_bytes(data)


def test_shapes_are_checked_at_the_boundary():
    with pytest.raises(AssertionError):
        A.ExpressionTrack(fps=30, codes=np.zeros((5, 3), np.float32), pose=np.zeros((5, 6), np.float32), source="idle")


def test_a_bad_artifact_is_a_one_line_memorial_error():
    from click.testing import CliRunner

    from assets.artifacts import ArtifactError, HeadModel
    from generation.cli import MemorialGroup
    from assets.errors import MemorialError

    with pytest.raises(ArtifactError) as caught:
        HeadModel.from_bytes(b"not an artifact")
    assert isinstance(caught.value, MemorialError)

    import click

    @click.group(cls=MemorialGroup)
    def group():
        pass

    @group.command()
    def load():
        HeadModel.from_bytes(b"not an artifact")

    result = CliRunner().invoke(group, ["load"])
    assert result.exit_code == ArtifactError.exit_code != 0
    assert result.output.count("\n") == 1 and result.output.startswith("memorial: error: not a HeadModel artifact")
