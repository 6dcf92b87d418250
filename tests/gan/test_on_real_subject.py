"""End to end on the built-in single-photo subject: ingest -> train (tiny) -> frames -> evaluate,
including the render-on-head figures (geometry stage's renderer + mediapipe re-detection)."""

import numpy as np
import pytest

from assets import expression
from assets.artifacts import KEYS, ExpressionTrack, HeadModel, SubjectDataset


@pytest.mark.slow
def test_built_in_subject_end_to_end(make_subject):
    from assets import default_subject
    from generation.gan import checkpoint, generate_frames
    from generation.gan.evaluate import evaluate, report_lines
    from generation.gan.train import train_subject
    from generation.ingest import fit_subject, ingest_paths

    vault = make_subject("grace")
    ingest_paths(vault, [default_subject.portrait_path()], progress=False)
    fit_subject(vault, progress=False)
    key = train_subject(vault, "cpu-demo", steps=3, progress=False, say=lambda s: None,
                        overrides={"resolution": 32, "texture_side": 64, "basis_side": 32, "batch": 2,
                                   "channel_base": 256, "channel_max": 32,
                                   "d_channel_base": 128, "d_channel_max": 16})
    ckpt = checkpoint.load(vault, key)
    ds = SubjectDataset.from_bytes(vault.get(KEYS["dataset"]))
    head = HeadModel.from_bytes(vault.get(KEYS["head"]))
    result = evaluate(ckpt, ds, head=head)
    assert result["render"] == "measured", result["render"]
    assert result["render_recon_train"]["n"] > 0 and 5 < result["render_recon_train"]["psnr_db"] < 60
    fid = result["expression_fidelity"]
    assert set(fid) == {c.name for c in expression.SEMANTIC}
    assert sum(np.isfinite(v) for v in fid.values()) >= 12  # mediapipe finds the rendered face
    assert any("expression fidelity" in line and "mean" in line for line in report_lines(result))
    codes = expression.neutral(10)
    codes[:, expression.index("jaw_open")] = np.linspace(0, 1, 10)
    track = ExpressionTrack(fps=25.0, codes=codes, pose=np.zeros((10, 6), np.float32), source="idle")
    seq = generate_frames(vault, track, key)
    assert seq.frames.shape == (10, 64, 64, 3) and seq.fps == 25.0  # textures at texture_side
