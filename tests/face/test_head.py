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


MOVED = ("jaw_open", "mouth_smile_l", "brow_up_r", "blink_l")


@pytest.fixture(scope="module")
def talking(faces, grace_head):
    """40 landmark sets of Hopper's head moving four controls together, with the pose they were
    projected at: a calibrated subject whose shapes are fitted jointly."""
    rng = np.random.default_rng(1)
    pose = fit_pose(faces["grace"][1], grace_head.vertices[:478], 512)
    codes = expression.neutral(40)
    for name in MOVED:
        codes[:, expression.index(name)] = rng.uniform(0, 1, 40) * (rng.random(40) < 0.6)
    return np.stack([project(grace_head.deform(c), pose, 512)[:478] for c in codes]), pose


def test_each_fitted_control_moves_its_own_measure_by_its_code(talking, monkeypatch):
    """Jointly fitted shapes are partial effects; the head scales each so that 0.8 of a control
    changes that control's calibrated measure by 0.8 (before: jaw moved it by 1.0 on the shared
    clip, funnel by 0.05) -- here with no limit on how much worse that rebuilds the frames."""
    from generation.face.controls import fit_calibration, raw_measures

    sets, pose = talking
    cal = fit_calibration(sets)
    monkeypatch.setattr(H, "RECONSTRUCTION_FLOOR_M", np.inf)
    monkeypatch.setattr(H, "SIDED", ())  # pairs shown split are left unscaled (tests/face/test_one_sided.py)
    h = H.fit_head(sets, calibration=cal)

    def measure(code):
        return (raw_measures(project(h.deform(code), pose, 512)[:478]) - cal.neutral) / cal.range

    rest = measure(expression.neutral())
    for name in MOVED:
        i = expression.index(name)
        assert h.meta["blendshapes"][name].startswith("fitted"), name
        code = expression.neutral()
        code[i] = 0.8
        assert abs((measure(code) - rest)[i] - 0.8) < 0.05, name


def test_a_shape_that_would_misbuild_her_frames_keeps_its_fitted_size(talking, monkeypatch):
    """These frames were made by moving the generic jaw: its jointly fitted shape moves the jaw
    measure by only about half its code, and scaling it up would rebuild the frames' mouths
    millimetres off, so it stays as fitted (and says so), while shapes that cost nothing scale."""
    from generation.face.controls import codes_from_landmarks, fit_calibration
    from generation.face.pose import canonical

    sets, _ = talking
    cal = fit_calibration(sets)
    # the pairs shown one-sided (tests/face/test_one_sided.py) are left out: here a smile code echoes the jaw
    monkeypatch.setattr(H, "SIDED", ())
    h = H.fit_head(sets, calibration=cal)
    how = h.meta["blendshapes"]
    assert "kept as fitted" in how["jaw_open"] and "so that it moves" in how["mouth_smile_l"], how
    codes, target = codes_from_landmarks(sets, cal), canonical(sets)
    shape = h.vertices[:478].astype(np.float64)
    semantic = len(expression.SEMANTIC)
    shown = h.blendshapes[:semantic, :478].astype(np.float64)
    fitted = h.fitted_shapes[:, :478].astype(np.float64)
    base = H.reconstruction_error(fitted, shape, cal, codes, target)
    assert H.reconstruction_error(shown, shape, cal, codes, target) <= base + max(0.05 * base, 1e-4) * semantic


def test_the_rescale_leaves_the_rest_face_and_the_fitted_reconstruction_alone(faces, talking, monkeypatch):
    """Code 0 is her rest face, identical with and without the rescale (last round's rescale was
    taken out for closing her resting mouth); and a measured code rebuilds the same face through
    `reconstruct` (what unwraps use) as the unscaled fit does, so the textures unwrapped from her
    frames do not change: only what the head shows for a code does."""
    from generation.face.controls import codes_from_landmarks, fit_calibration

    sets, _ = talking
    cal = fit_calibration(sets)
    monkeypatch.setattr(H, "SIDED", ())  # pairs shown split are left unscaled (tests/face/test_one_sided.py)
    h = H.fit_head(sets, calibration=cal)
    monkeypatch.setattr(H, "self_consistent", lambda off, shape, generic, cal, frames, **kw: (off, {}))
    monkeypatch.setattr(H, "brows_own", lambda off, shape, cal, codes, faces, refit: (off, []))
    plain = H.fit_head(sets, calibration=cal)  # the joint fit as it is
    assert np.abs(h.vertices - plain.vertices).max() < 1e-7  # metres: the rest geometry is the same
    assert np.abs(h.deform(expression.neutral()) - plain.vertices).max() < 1e-7
    assert HeadModel.from_bytes(h.to_bytes()).fitted_shapes.shape == (len(expression.SEMANTIC), len(h.vertices), 3)
    scaled = [expression.index(n) for n in MOVED if "so that it moves" in h.meta["blendshapes"][n]]
    assert scaled, "no shape was rescaled: the test has nothing to check"
    worst = shown = 0.0
    for lm in sets[::4]:
        code = codes_from_landmarks(lm, cal)
        worst = max(worst, float(np.abs(h.reconstruct(code) - plain.reconstruct(code)).max()))
        shown = max(shown, float(np.abs(h.deform(code) - plain.deform(code)).max()))
    assert worst < 1e-6, worst  # metres
    assert shown > 1e-3  # metres: the displayed face does differ, so the check is not vacuous
    from generation.face.unwrap import unwrap

    photo = faces["grace"][0]
    code = codes_from_landmarks(sets[1], cal)
    for a, b in zip(unwrap(photo, sets[1], h, code, size=64), unwrap(photo, sets[1], plain, code, size=64)):
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 1  # the same texture from the same frame


def test_looking_up_lifts_the_lids_and_leaves_corners_and_brows(grace_head):
    """An eye that looks up shows its iris (the upper lid rides up most of the way, the lower lid a
    little) instead of tucking it under a still lid; the eye corners and brows stay."""
    shape = grace_head.vertices[:478].astype(np.float64)
    pitch = H.generic_blendshapes(shape)["gaze_pitch_l"]  # code 1 = 30 degrees up
    eye = L.EYE_L
    lift = pitch[eye["iris"], 1]
    assert lift > 0.004  # metres: the iris centre rises
    upper_mid, lower_mid = eye["upper"][0], eye["lower"][0]  # the middle of each lid
    assert pitch[upper_mid, 1] > 0.45 * lift
    assert 0.15 * lift < pitch[lower_mid, 1] < pitch[upper_mid, 1]
    assert np.abs(pitch[[eye["outer"], eye["inner"]]]).max() < 0.05 * lift
    assert np.abs(pitch[list(L.BROW_L)]).max() < 0.1 * lift
    assert np.abs(pitch[list(L.BROW_R) + list(L.EYE_R["upper"])]).max() == 0  # the other eye's lids stay


@pytest.fixture(scope="module")
def rounding(faces, grace_head):
    """40 landmark sets of Hopper's head talking: the lips round (narrow, the generic pucker) while
    the jaw drops at least as far, as a real mouth does, so a funnel's parting is the jaw's."""
    rng = np.random.default_rng(2)
    pose = fit_pose(faces["grace"][1], grace_head.vertices[:478], 512)
    codes = expression.neutral(40)
    jaw, narrow = expression.index("jaw_open"), expression.index("mouth_pucker")
    codes[:, narrow] = rng.uniform(0.3, 1, 40) * (rng.random(40) < 0.5)
    codes[:, jaw] = np.maximum(rng.uniform(0, 0.8, 40) * (rng.random(40) < 0.5), codes[:, narrow])
    return np.stack([project(grace_head.deform(c), pose, 512)[:478] for c in codes]), pose


def test_a_funnel_alone_parts_the_lips_and_her_frames_are_shown_as_fitted(rounding):
    """Funnel reads narrowing AND parting, and the parting is the jaw's measure, so in real data
    the jaw carries a funnel's parting and her jointly fitted funnel shape may only narrow: shown
    alone it read as a pucker (0.15 for 0.8 on the shared clip). The head opens the jaw as far as
    a funnel needs; her measured codes already have that much jaw and are shown as fitted."""
    from generation.face.controls import codes_from_landmarks, fit_calibration

    sets, pose = rounding
    cal = fit_calibration(sets)
    h = H.fit_head(sets, calibration=cal)
    assert h.meta["blendshapes"]["mouth_funnel"].startswith("fitted") and h.meta["funnel_parts_jaw"] > 0
    funnel, narrow = expression.index("mouth_funnel"), expression.index("mouth_pucker")
    codes = codes_from_landmarks(sets, cal)
    assert (codes[:, funnel] > 0.3).sum() >= 5  # the frames do round and part the lips
    plain = HeadModel(h.vertices, h.faces, h.uvs, h.blendshapes, h.landmark_vertices, h.regions,
                      {k: v for k, v in h.meta.items() if k != "funnel_parts_jaw"}, h.fitted_shapes, h.pair_shapes)
    for c in codes:
        np.testing.assert_array_equal(h.shown_code(c), c)
        np.testing.assert_array_equal(h.deform(c), plain.deform(c))

    # a funnel fitted as her clip's is, narrowing only: the generic pucker's sideways motion
    shape = h.vertices[:478].astype(np.float64)
    narrowing = H.generic_blendshapes(shape)["mouth_pucker"] * [1.0, 0.0, 0.0]
    blend = h.blendshapes.copy()
    blend[funnel] = H.spread(narrowing, shape, h.vertices.astype(np.float64), np.asarray(h.meta["source"]))
    rounds = HeadModel(h.vertices, h.faces, h.uvs, blend, h.landmark_vertices, h.regions, h.meta)
    only_narrows = HeadModel(h.vertices, h.faces, h.uvs, blend, h.landmark_vertices, h.regions, plain.meta)

    def moved(head, code):  # unclipped change of the parting (jaw) and narrowing (pucker) measures
        lin = H._linear_codes(head.deform(code)[:478], cal) - H._linear_codes(head.vertices[:478], cal)
        return lin[expression.index("jaw_open")], lin[narrow]

    code = expression.neutral()
    code[funnel] = 0.8
    parting, narrowing = moved(rounds, code)
    jaw_alone = expression.neutral()
    jaw_alone[expression.index("jaw_open")] = 0.8 * h.meta["funnel_parts_jaw"]
    assert parting == pytest.approx(moved(rounds, jaw_alone)[0], abs=0.05)  # the jaw's parting, as the measure says
    assert parting > 0.3 and narrowing > 0.3  # shown as a funnel: the lips part and narrow
    assert moved(only_narrows, code)[0] < 0.1  # the plain linear blend only narrows: the test can fail


def test_shown_code_only_raises_the_jaw_and_older_heads_show_the_code(grace_head):
    jaw, funnel = expression.index("jaw_open"), expression.index("mouth_funnel")
    code = expression.neutral()
    code[funnel] = 0.8
    np.testing.assert_array_equal(grace_head.shown_code(code), code)  # no "funnel_parts_jaw": as given
    h = HeadModel(grace_head.vertices, grace_head.faces, grace_head.uvs, grace_head.blendshapes,
                  grace_head.landmark_vertices, grace_head.regions, {**grace_head.meta, "funnel_parts_jaw": 0.5})
    shown = h.shown_code(code)
    assert shown[jaw] == pytest.approx(0.4) and np.array_equal(np.delete(shown, jaw), np.delete(code, jaw))
    code[jaw] = 0.6  # already open further than the funnel needs
    np.testing.assert_array_equal(h.shown_code(code), code)
    assert h.reconstruct(code).shape == h.vertices.shape
    np.testing.assert_array_equal(HeadModel.from_bytes(h.to_bytes()).shown_code(code), code)


@pytest.fixture(scope="module")
def brows_with_the_jaw(faces, grace_head):
    """40 landmark sets of Hopper's head talking whose brows push forward as the jaw opens (5 mm at a
    full jaw), a motion no brow measure reads, while the right brow rises on its own now and then."""
    rng = np.random.default_rng(3)
    pose = fit_pose(faces["grace"][1], grace_head.vertices[:478], 512)
    codes = expression.neutral(40)
    jaw, brow = expression.index("jaw_open"), expression.index("brow_up_r")
    codes[:, jaw] = rng.uniform(0, 1, 40) * (rng.random(40) < 0.7)
    codes[:, brow] = rng.uniform(0, 1, 40) * (rng.random(40) < 0.6)
    brows = list(L.BROW_L + L.BROW_R + H.BROW_LOWER)
    sets = []
    for c in codes:
        v = grace_head.deform(c)[:478].copy()
        v[brows, 2] += 0.005 * c[jaw]
        sets.append(project(v, pose, 512))
    return np.stack(sets)


def test_only_the_brow_controls_move_the_brows_and_her_frames_unwrap_as_fitted(brows_with_the_jaw):
    """Her codes move together, so the joint fit gives a mouth control the brows' motion (on the shared
    clip a pucker drew her inner brows 3 mm apart per code and brow_down made up for it with a pinch):
    shown alone, opening the mouth moved her brows. On the brows the head shows the brow controls'
    own fit; unwraps of real frames (`reconstruct`) keep the joint fit."""
    from generation.face.controls import fit_calibration

    sets = brows_with_the_jaw
    cal = fit_calibration(sets)
    h = H.fit_head(sets, calibration=cal)
    jaw, brow = expression.index("jaw_open"), expression.index("brow_up_r")
    brows = list(L.BROW_L + L.BROW_R + H.BROW_LOWER)
    joint = cal.regression[jaw].reshape(478, 3)
    assert np.abs(joint[brows, 2]).max() > 0.001  # metres: the joint fit moves the brows with the jaw
    assert np.abs(h.fitted_shapes[jaw, brows, 2]).max() > 0.001  # and unwraps keep it (they rebuild her frames)
    assert np.linalg.norm(h.blendshapes[jaw, brows], axis=1).max() < 2e-4  # shown: the jaw leaves the brows
    assert h.blendshapes[jaw, L.CHIN, 1] < -0.005  # and still drops the chin
    assert h.blendshapes[brow, L.BROW_R[2], 1] > 0.003  # the brow still rises by its own control
    assert h.meta["blendshapes"]["brow_up_r"].startswith("fitted") and "brows" in h.meta["blendshapes"]["jaw_open"]


def test_her_blinking_frames_give_the_head_her_lashes_hang(talking):
    """With her frames' images, the head records how far her lashes hang under a blinking lid (meta
    "lash_hang", in open lids' gaps: vr_app.lids hangs the closing lid's lash line that far); from
    landmarks alone it has no such measure."""
    from assets import landmarks as L

    sets, _ = talking
    gaps = np.mean(sets[:, list(L.EYE_L["lower"]), 1] - sets[:, list(L.EYE_L["upper"]), 1], axis=1)  # [N]
    open_gap = np.max(gaps)
    images = []
    for p, gap in zip(sets, gaps):
        img = np.full((512, 512, 3), (190, 150, 130), np.uint8)
        if gap < 0.8 * open_gap:  # a blinking left eye: a dark band 0.3 open gaps under its edge
            xs, ys = p[list(L.EYE_L["upper"]), 0], p[list(L.EYE_L["upper"]), 1]
            img[int(ys.min() - 2):int(round(ys.max() + 0.3 * open_gap)), int(xs.min() - 6):int(xs.max() + 7)] = 15
        images.append(img)
    h = H.fit_head(sets, images=images)
    assert abs(h.meta["lash_hang"] - 0.3) < 0.06, h.meta["lash_hang"]
    assert "lash_hang" not in H.fit_head(sets).meta
