import numpy as np
import pytest
import trimesh

from assets import landmarks as L
from assets import expression
from assets.artifacts import HeadModel
from generation.face import head as H
from generation.face.errors import GeometryError
from generation.face.pose import fit_pose, project


def test_head_is_a_closed_outward_mesh_in_metres(grace_head):
    h = grace_head
    welded = trimesh.Trimesh(h.vertices, h.faces)  # merges the UV-seam copies by position
    assert welded.is_watertight and welded.is_winding_consistent
    assert welded.volume > 0.002 and len(welded.split(only_watertight=False)) == 1
    assert 0.13 < np.ptp(h.vertices[:, 0]) < 0.2  # head width
    assert h.vertices[L.NOSE_TIP, 2] > h.vertices[:, 2].mean() + 0.05  # +z out of the face
    assert h.vertices[10, 1] > h.vertices[L.CHIN, 1]  # +y up
    assert h.uvs.min() >= 0 and h.uvs.max() <= 1
    assert HeadModel.from_bytes(h.to_bytes()).vertices.shape == h.vertices.shape


def test_face_takes_most_of_the_uv_area(grace_head):
    from generation.face.unwrap import uv_raster

    fid, _ = uv_raster(grace_head, 128)
    face_tris = np.all(grace_head.faces < 478, axis=1)
    used = fid >= 0
    assert face_tris[fid[used]].mean() > 0.6


def _moved(h, name):
    return np.linalg.norm(h.blendshapes[expression.index(name)], axis=1)


def test_blendshapes_move_their_own_region(grace_head):
    h = grace_head
    jaw = _moved(h, "jaw_open")
    assert h.blendshapes[expression.index("jaw_open"), L.CHIN, 1] < -0.005 and jaw[10] == 0
    blink = h.blendshapes[expression.index("blink_l")]
    assert blink[386, 1] < -0.003 and np.abs(blink[159]).max() == 0
    smile = _moved(h, "mouth_smile_l")
    assert smile[L.MOUTH_CORNER_L] > 0.004 and smile[L.MOUTH_CORNER_R] < 1e-4
    gaze = h.blendshapes[expression.index("gaze_yaw_r")]
    assert gaze[L.EYE_R["iris"], 0] > 0.003 and np.abs(gaze[L.EYE_L["iris"]]).max() == 0
    brow = _moved(h, "brow_up_r")
    assert brow[L.BROW_R[2]] > 0.005 and brow[L.CHIN] == 0
    assert set(h.meta["blendshapes"]) == set(expression.NAMES)
    assert {"face", "eyes", "mouth", "neck", "scalp"} <= set(h.regions)
    assert h.meta["eyes"]["l"]["centre"][0] > 0 > h.meta["eyes"]["r"]["centre"][0]


def test_blendshapes_are_fitted_from_the_subjects_own_data(faces, grace_head):
    rng = np.random.default_rng(0)
    pose = fit_pose(faces["grace"][1], grace_head.vertices[:478], 512)
    codes = expression.neutral(40)
    for name in ("jaw_open", "mouth_smile_l", "mouth_smile_r", "blink_l"):
        codes[:, expression.index(name)] = rng.uniform(0, 1, 40) * (rng.random(40) < 0.6)
    sets = np.stack([project(grace_head.deform(c), pose, 512)[:478] for c in codes])
    h = H.fit_head(sets)
    assert h.meta["blendshapes"]["jaw_open"].startswith("fitted")
    assert h.meta["blendshapes"]["brow_down"].startswith("generic")
    assert h.blendshapes[expression.index("jaw_open"), L.CHIN, 1] < -0.004


def test_export_glb_and_obj(grace_head, tmp_path):
    tex = np.full((64, 64, 3), 180, np.uint8)
    H.export_head(grace_head, tex, tmp_path / "head.glb")
    loaded = trimesh.load(tmp_path / "head.glb", force="mesh")
    assert len(loaded.faces) == len(grace_head.faces)
    H.export_head(grace_head, tex, tmp_path / "head.obj")
    assert len(trimesh.load(tmp_path / "head.obj", force="mesh").faces) == len(grace_head.faces)
    with pytest.raises(GeometryError, match="format"):
        H.export_head(grace_head, tex, tmp_path / "head.stl")


def test_fit_head_rejects_bad_landmarks():
    with pytest.raises(GeometryError, match=r"\[N,478,3\]"):
        H.fit_head(np.zeros((478, 3)))
    with pytest.raises(GeometryError, match="NaN"):
        H.fit_head(np.full((2, 478, 3), np.nan))


def test_generic_blendshapes_read_back_as_their_own_control(faces, grace_head):
    """Deform the head by one control, project, measure: that control is the one that reads."""
    from generation.face.controls import codes_from_landmarks, fit_calibration

    lm = faces["grace"][1]
    cal = fit_calibration(lm[None])
    pose = fit_pose(lm, grace_head.vertices[:478], 512)
    for i, ctl in enumerate(expression.SEMANTIC):
        code = expression.neutral()
        code[i] = 1.0
        read = np.abs(codes_from_landmarks(project(grace_head.deform(code), pose, 512)[:478], cal)[:16])
        assert read[i] > 0.75 and int(np.argmax(read)) == i, (ctl.name, read.round(2))
