"""Closing lids (vr_app/lids.py): a blink shows lid skin and a lash line, not the open eye's lash
band stretched into a comb of pale and dark streaks."""

from __future__ import annotations

import numpy as np
import pytest

from assets import expression
from vr_app import lids as lid_module
from vr_app.lids import BALL_CLEAR_M, ClosingLids, LidSurface, closing, lid_top
from vr_app.rig import cut_eye_holes, eye_openings

from .heads import SKIN, make_head

SIZE = 256


@pytest.fixture(scope="module")
def head():
    return make_head(5)


@pytest.fixture(scope="module")
def fitted():
    """A head fitted to Grace Hopper's portrait: the real mesh's lids (one row of faces fanned from the lid's
    edge to the brow's row of vertices), which the hand-made ellipsoid has not."""
    from PIL import Image

    from assets.default_subject import portrait_path
    from generation.face.head import fit_head
    from generation.face.landmarks import LandmarkDetector

    img = np.asarray(Image.open(portrait_path()).convert("RGB"))
    with LandmarkDetector() as det:
        lm = det.detect(img)[0].landmarks
    return fit_head(lm[None], images=[img])


def _lids(head, texture):
    eyes = eye_openings(head)
    faces = cut_eye_holes(head, eyes)
    return eyes, faces, ClosingLids(head.uvs, head.vertices, eyes, texture, np.array(SKIN, np.float32))


def _area(points: np.ndarray, faces: np.ndarray) -> float:
    a, b, c = (points[faces[:, k]] for k in range(3))
    return float(0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1).sum())


def _texture_above_lids(head, paint, reach: float) -> np.ndarray:
    """Skin, with `paint(x, y)` -> RGB applied on each upper lid from its edge up to `reach` x the opening."""
    tex = np.empty((SIZE, SIZE, 3), np.uint8)
    tex[:] = SKIN
    for eye in eye_openings(head).values():
        uv = head.uvs[eye["ring"]]
        top, height = uv[:, 1].max(), np.ptp(uv[:, 1])
        x0, x1 = (np.array([uv[:, 0].min(), uv[:, 0].max()]) * (SIZE - 1)).round().astype(int)
        y_edge = int(round((1 - uv[:, 1].mean()) * (SIZE - 1)))  # from the eye's middle row
        y_top = int(round((1 - (top + reach * height)) * (SIZE - 1)))
        for y in range(y_top, y_edge + 1):
            for x in range(x0, x1 + 1):
                tex[y, x] = paint(x, y)
    return tex


def _lash_line_and_eyeshadow(head) -> np.ndarray:
    """Skin; on each upper lid a black lash line from the eye's middle row up to 0.06 of the opening
    above its top, and over it a pale eyeshadow up to 0.4 of the opening."""
    tex = _texture_above_lids(head, lambda x, y: (235, 225, 215), reach=0.4)
    lashes = _texture_above_lids(head, lambda x, y: (20, 15, 10), reach=0.06)
    line = np.all(lashes != SKIN, axis=-1)
    tex[line] = lashes[line]
    return tex


def test_a_closing_lid_slides_past_its_lash_line_and_stops_on_her_lid(head):
    """The closing lid shows her lid's own skin (the eyeshadow), not the lashes stretched and not the
    skin beyond: the old edge slid past the eyeshadow too, up to 0.6 of the opening (past the lid's
    next row of vertices: the brow's or a hat's texels, upside down)."""
    eyes = eye_openings(head)
    lids = ClosingLids(head.uvs, head.vertices, eyes, _lash_line_and_eyeshadow(head), np.array(SKIN, np.float32))
    assert set(lids.ids) == {"l", "r"}
    for side, ids in lids.ids.items():
        height = np.ptp(head.uvs[eyes[side]["ring"], 1])
        assert np.all(head.vertices[ids, 1] > head.vertices[eyes[side]["ring"], 1].min())  # upper lid only
        # past the lash line (its top 0.06 over the lid's top; lower at the corners), not past the eyeshadow
        assert 0.06 * height <= lids.shift[side][1] <= 0.35 * height, (side, lids.shift[side] / height)



def test_the_lash_line_that_goes_down_with_the_lid_is_the_photo_dark_texels(head):
    """Each upper lid's lash line runs corner to corner, reaches up as far as the photo's dark texels
    over the edge, and not at all where the photo shows plain skin there."""
    eyes = eye_openings(head)
    lids = ClosingLids(head.uvs, head.vertices, eyes, _lash_line_and_eyeshadow(head), np.array(SKIN, np.float32))
    plain = ClosingLids(head.uvs, head.vertices, eyes, np.full((SIZE, SIZE, 3), SKIN, np.uint8),
                        np.array(SKIN, np.float32))
    for side, eye in eyes.items():
        line, top, foot = lids.lash[side]
        ring_y = head.vertices[eye["ring"], 1]
        opening_m = np.ptp(ring_y)
        assert set(line) >= set(lids.ids[side]) and len(line) == len(lids.ids[side]) + 2  # and both corners
        assert np.all(np.diff(head.vertices[line, 0]) >= 0)  # in order along the lid
        middle = top[1:-1]
        assert np.all(middle > 0) and np.all(middle <= lid_module.LASH_REACH * opening_m), middle / opening_m
        assert np.all(foot >= 0)
        _, top0, foot0 = plain.lash[side]
        assert np.all(top0 == 0) and np.all(foot0 == 0)


def test_a_glasses_frame_above_the_eye_is_not_taken_for_lid_skin(head):
    """A run of dark texels over the lid's edge that goes on past any lash line's reach is no lash line:
    the edge stays where it is (and no lash line hangs from it)."""
    glasses = _texture_above_lids(head, lambda x, y: (25, 20, 20), reach=0.7)  # a dark frame over the lids
    for eye in eye_openings(head).values():  # the lid's edge itself is skin
        for u, v in head.uvs[eye["ring"]]:
            glasses[int(round((1 - v) * (SIZE - 1))), int(round(u * (SIZE - 1)))] = SKIN
    lids = ClosingLids(head.uvs, head.vertices, eye_openings(head), glasses, np.array(SKIN, np.float32))
    assert all(abs(float(d[1])) < 1e-9 for d in lids.shift.values()), lids.shift
    assert all(np.all(top[2:-2] == 0) for _, top, _ in lids.lash.values())  # (the corners: where the frame ends)


def test_the_lid_surface_covers_the_head_s_upper_lid_and_meets_the_brow_at_its_vertices(fitted):
    """Each upper lid gets a surface of several rows over exactly the head's lid faces (the same area, no
    gap): its top row is the brow's own row of vertices (a grid column ending mid-edge there left pixel
    cracks), and shut it lies outside the eyeball."""
    head = fitted
    eyes, faces, lids = _lids(head, np.full((SIZE, SIZE, 3), SKIN, np.uint8))
    closed = head.vertices + sum(head.blendshapes[expression.index(f"blink_{side}")] for side in ("l", "r"))
    for side, eye in eyes.items():
        line = lids.lash[side][0]
        lid = faces[np.isin(faces, lids.ids[side]).any(axis=1)]
        top = lid_top(lid, line)
        assert top is not None and top[0] == line[0] and top[-1] == line[-1] and len(top) > 2
        assert set(lid.ravel()) <= set(line) | set(top) | set(range(468, 478))  # (the iris's top, under a lid)
        strip = lid[np.isin(lid, np.concatenate([line, top])).all(axis=1)]
        centre = eye["iris"] - np.array([0.0, 0.0, 0.012])
        surface = LidSurface(side, head.uvs, lid, line, top, float(lids.shift[side][1]), (centre, 0.012),
                             np.full((SIZE, SIZE, 3), SKIN, np.uint8))
        drawn = surface.geom.faces
        assert len(drawn) > 6 * len(lid)
        normals = np.tile([0.0, 0.0, 1.0], (len(head.vertices), 1))
        surface.update(head.vertices, normals, 1e-6)  # just closing: where the head's faces are
        points = surface.geom.data[:, 0:3]
        assert _area(points, drawn) == pytest.approx(_area(head.vertices, strip), rel=0.01)
        seam = points[np.unique(drawn)]
        for v in top:  # every vertex of the brow's row is one of the surface's
            assert np.min(np.linalg.norm(seam - head.vertices[v], axis=1)) < 1e-7
        surface.update(closed, normals, 1.0)
        shut = surface.geom.data[np.unique(drawn), 0:3]
        assert np.linalg.norm(shut - centre, axis=1).min() >= 0.012 + BALL_CLEAR_M - 1e-6
        assert not surface.node.is_hidden()
        surface.update(head.vertices, normals, closing(0.1))
        assert surface.node.is_hidden()  # open: the head's own lid


def test_a_closing_lid_shows_her_lid_skin_evened_not_the_open_eye_s_lashes_stretched_into_stripes(fitted):
    """Over her lid the photo of an open eye shows lashes as dark strokes across her pale eyeshadow: the
    blink stretched them two to three times into vertical stripes down the closed lid. Shut, the lid shows
    her lid's skin evened along it; open again, the face is exactly as before."""
    from panda3d.core import AmbientLight, Point2, Point3

    from assets.mesh import inside_polygon
    from scenes.geom import to_panda
    from scenes.panda_textures import TextureStream
    from vr_app.offscreen import OffscreenRenderer
    from vr_app.rig import HeadRig

    head = fitted
    size = 512
    tex = np.empty((size, size, 3), np.uint8)
    tex[:] = SKIN
    eyes = eye_openings(head)
    faces = cut_eye_holes(head, eyes)
    u, v = np.meshgrid(np.arange(size) / (size - 1), 1 - np.arange(size) / (size - 1))
    probe = ClosingLids(head.uvs, head.vertices, eyes, tex, np.array(SKIN, np.float32))
    for side in eyes:
        lid = faces[np.isin(faces, probe.ids[side]).any(axis=1)]
        on_lid = np.zeros(size * size, bool)
        for f in lid:
            on_lid |= inside_polygon(np.c_[u.ravel(), v.ravel()], head.uvs[f].astype(np.float64))
        strokes = (np.arange(size) // 2) % 2 == 0  # 2-texel dark strokes, 2 apart
        paint = np.where(strokes[None, :, None], (40, 30, 25), (235, 220, 210)).astype(np.uint8)
        flat = tex.reshape(-1, 3)
        flat[on_lid] = np.broadcast_to(paint, (size, size, 3)).reshape(-1, 3)[on_lid]
    r = OffscreenRenderer((240, 240), fov=1.2)
    render = r.stage.render
    amb = AmbientLight("a")
    amb.set_color((1, 1, 1, 1))
    render.set_light(render.attach_new_node(amb))
    rig = HeadRig(head, render, TextureStream(tex, 1.0))
    try:
        for side in eyes:
            eye = to_panda(eyes[side]["iris"] - rig.origin)
            r.stage.camera.set_pos(*(eye + (0, -3.0, 0)))
            r.stage.camera.look_at(*eye)
            rig.set_code(expression.neutral())
            rest = r.frame()
            rig.set_code(expression.from_dict({f"blink_{side}": 1.0}))
            img = r.frame().astype(int)
            ids = rig.lids.ids[side]
            edge, was = rig.mesh.data[ids, 0:3], rig._base[ids]
            middle = np.argsort(edge[:, 0])[1:-1]  # away from the corners
            lum = []
            for a, b in zip(middle[:-1], middle[1:]):
                for f in np.linspace(0, 1, 12, endpoint=False):
                    p = (1 - f) * (0.6 * edge[a] + 0.4 * was[a]) + f * (0.6 * edge[b] + 0.4 * was[b])
                    q = r.stage.camera.get_relative_point(rig.pivot, Point3(*map(float, p)))
                    film = Point2()
                    assert r.stage.lens.project(q, film)
                    lum.append(img[int((1 - film.y) * 120), int((film.x + 1) * 120)] @ (0.299, 0.587, 0.114))
            lum = np.array(lum)
            # stretched strokes: luma ~35 and ~220 side by side (spread ~90); her lid evened: one skin
            assert lum.std() < 20, (side, lum.round())
            assert lum.mean() > 60, (side, lum.round())  # her lid's skin, not a dark hole or the strokes' black
            rig.set_code(expression.neutral())
            assert np.array_equal(r.frame(), rest)  # open again: the head's own lid, exactly
    finally:
        r.close()


def test_a_shut_lid_s_lashes_hang_over_the_eye_by_her_share_of_its_opening(head):
    """Closing, her lashes turn down over the eye (the shared clip's frames: a dark band ~0.35 of the open lids'
    gap under the edge); the strip's foot goes down (and a little forward) by her share of the gap at each point
    of the lid, nothing at the corners, eased in with the lid's closing; open, the strip is not drawn. Without a
    measure (no blinking frames) the lash line keeps its own foot."""
    from scenes.geom import from_panda, to_panda
    from vr_app.lids import LASH_FORWARD, LashLine, open_gap

    eyes = eye_openings(head)
    texture = _lash_line_and_eyeshadow(head)
    unmeasured = ClosingLids(head.uvs, head.vertices, eyes, texture, np.array(SKIN, np.float32))
    assert all(np.all(h == 0) for h in unmeasured.hang.values())
    share = 0.35
    lids = ClosingLids(head.uvs, head.vertices, eyes, texture, np.array(SKIN, np.float32), hang=share)
    for side, eye in eyes.items():
        line, top, foot = lids.lash[side]
        hang = lids.hang[side]
        ring = np.asarray(eye["ring"])
        upper = np.isin(ring, lids.ids[side])
        gap = open_gap(head.vertices[line], head.vertices[ring[~upper]])
        assert hang[0] == pytest.approx(0.0, abs=1e-6) and hang[-1] == pytest.approx(0.0, abs=1e-6)  # the corners
        middle = len(line) // 2
        opening = np.ptp(head.vertices[ring, 1])
        assert 0.5 * opening < gap[middle] <= opening  # the lids' gap in the lid's middle
        np.testing.assert_allclose(hang, share * gap)
        strip = LashLine("lash", head.vertices, line, top, foot, head.vertices[ring, :2].mean(0), 0.02,
                         np.zeros((8, 8, 3), np.uint8), hang)
        verts, normals = to_panda(head.vertices), np.tile([0.0, -1.0, 0.0], (len(head.vertices), 1))
        feet = _foot_columns(strip, len(line))

        def foot_drop(blink: float) -> np.ndarray:
            strip.update(verts, normals, blink)
            pts = from_panda(strip.geom.data[feet, :3])
            return head.vertices[line, 1] - pts[:, 1], pts[:, 2] - head.vertices[line, 2]

        strip.update(verts, normals, 0.05)
        assert strip.node.is_hidden()
        shut, forward = foot_drop(1.0)
        np.testing.assert_allclose(shut, np.maximum(hang, foot), atol=1e-7)
        assert shut[middle] > foot[middle] + 0.15 * opening  # well past the lash line's own foot
        np.testing.assert_allclose(forward - lid_module.LASH_LIFT_M, LASH_FORWARD * (shut - foot), atol=1e-7)
        half, _ = foot_drop(0.3)
        assert np.all(half <= shut + 1e-9) and half[middle] < shut[middle] - 1e-4


def _foot_columns(strip, n: int) -> np.ndarray:
    """Rows of `strip`'s vertex data that are the foot under each of its `n` edge vertices."""
    m = (n - 1) * lid_module.LASH_STEPS + 1
    assert len(strip.geom.data) == 2 * m
    return m + np.arange(n) * lid_module.LASH_STEPS


def _shut(head, lids, side, eye) -> np.ndarray:
    """The head's vertices with `side`'s upper lid's edge brought down onto the lower lid (a shut eye)."""
    line = lids.lash[side][0]
    ring = np.asarray(eye["ring"])
    lower = head.vertices[ring[~np.isin(ring, lids.ids[side])]]
    order = np.argsort(lower[:, 0])
    shut = head.vertices.copy()
    shut[line, 1] = np.interp(shut[line, 0], lower[order, 0], lower[order, 1])
    return shut


def test_a_shut_lid_s_lashes_lie_along_its_line_not_in_a_lens_over_the_lower_lid(head):
    """Hung by each point's own share of the open gap, a shut lid's lashes drew a thick black lens reaching far
    below the lower lid (her shut frames: a thin dark line). Shut, they reach no lower than the lower lid plus
    LASH_SHUT of the deepest hang, the same along the lid's middle; half closed, the lid's own gap still lets them
    hang by her share; with the head's open lids (no lid moved) nothing is cut."""
    from scenes.geom import from_panda, to_panda
    from vr_app.lids import LASH_SHUT, LashLine

    eyes = eye_openings(head)
    lids = ClosingLids(head.uvs, head.vertices, eyes, _lash_line_and_eyeshadow(head), np.array(SKIN, np.float32),
                       hang=0.35)
    normals = np.tile([0.0, -1.0, 0.0], (len(head.vertices), 1))
    for side, eye in eyes.items():
        line, top, foot = lids.lash[side]
        hang = lids.hang[side]
        ring = np.asarray(eye["ring"])
        lower = ring[~np.isin(ring, lids.ids[side])]
        strip = LashLine("lash", head.vertices, line, top, foot, head.vertices[ring, :2].mean(0), 0.02,
                         np.zeros((8, 8, 3), np.uint8), hang, lower)
        feet = _foot_columns(strip, len(line))
        middle = len(line) // 2

        def below_edge(vertices: np.ndarray, blink: float) -> np.ndarray:
            strip.update(to_panda(vertices), normals, blink)
            return vertices[line, 1] - from_panda(strip.geom.data[feet, :3])[:, 1]

        np.testing.assert_allclose(below_edge(head.vertices, 1.0), np.maximum(hang, foot), atol=1e-7)  # open: uncut
        easing = foot + closing(0.3) * np.maximum(hang - foot, 0)  # eased in from the lash line's foot, as before
        np.testing.assert_allclose(below_edge(head.vertices, 0.3), easing, atol=1e-7)
        shut = below_edge(_shut(head, lids, side, eye), 1.0)
        allowed = LASH_SHUT * np.minimum(hang.max(), 2 * hang)
        assert np.all(shut <= np.maximum(allowed, foot) + 1e-7)
        assert shut[middle] < hang[middle] - 0.2 * LASH_SHUT * hang[middle]  # no lens: well short of the hang
        inner = hang >= 0.5 * hang.max()  # along the lid's middle: one depth, as the line it lies along
        assert np.ptp(np.maximum(allowed, foot)[inner]) < 1e-7 and np.ptp(shut[inner]) < 1e-7
        # half way down, the lids' gap is still open: her share of the open gap hangs as before
        half = head.vertices.copy()
        half[line, 1] = 0.5 * (head.vertices[line, 1] + _shut(head, lids, side, eye)[line, 1])
        np.testing.assert_allclose(below_edge(half, 1.0)[middle], max(hang[middle], foot[middle]), atol=1e-7)


def test_the_lash_strip_s_foot_is_a_smooth_curve_and_its_top_stays_on_the_lid_s_edge(head):
    """The strip had one column per edge vertex: its foot, hung well below the edge, drew a polyline whose
    corners showed close up. It has LASH_STEPS columns per stretch: the top row on the edge's own straight
    stretches (it lies on the lid's surface), the foot a curve through the vertices' feet that turns a little
    at each column rather than all at once at the vertices."""
    from scenes.geom import to_panda
    from vr_app.lids import LASH_STEPS, LashLine

    eyes = eye_openings(head)
    lids = ClosingLids(head.uvs, head.vertices, eyes, _lash_line_and_eyeshadow(head), np.array(SKIN, np.float32),
                       hang=0.35)
    normals = np.tile([0.0, -1.0, 0.0], (len(head.vertices), 1))

    def turn(points: np.ndarray) -> np.ndarray:  # the angle (radians) a line through `points` [K,2] turns at each
        d = np.diff(points, axis=0)
        a = np.unwrap(np.arctan2(d[:, 1], d[:, 0]))
        return np.abs(np.diff(a))

    for side, eye in eyes.items():
        line, top, foot = lids.lash[side]
        n = len(line)
        strip = LashLine("lash", head.vertices, line, top, foot, head.vertices[np.asarray(eye["ring"]), :2].mean(0),
                         0.02, np.zeros((8, 8, 3), np.uint8), lids.hang[side])
        verts = to_panda(head.vertices)
        strip.update(verts, normals, 1.0)
        m = (n - 1) * LASH_STEPS + 1
        pts = strip.geom.data[:, :3]
        assert len(pts) == 2 * m and len(strip.geom.data) == 2 * m
        edge = verts[line] + strip._off[:n]
        at = np.arange(n) * LASH_STEPS
        np.testing.assert_allclose(pts[at], edge, atol=1e-6)  # the top row: through the edge's points...
        for k in range(n - 1):  # ... and straight between them
            t = np.arange(LASH_STEPS + 1)[:, None] / LASH_STEPS
            stretch = pts[k * LASH_STEPS:(k + 1) * LASH_STEPS + 1]
            np.testing.assert_allclose(stretch, (1 - t) * edge[k] + t * edge[k + 1], atol=1e-6)
        curve = pts[m:][:, [0, 2]]  # the foot (Panda x, z)
        polyline = curve[at]
        at_vertex = turn(curve)[at[1:-1] - 1]  # how much the foot turns at each inner edge vertex's column
        seg = np.linalg.norm(np.diff(polyline, axis=0), axis=1)
        bent = (turn(polyline) > 0.1) & (seg[:-1] > 1e-3) & (seg[1:] > 1e-3)  # a turn between two real stretches
        assert bent.any() and np.all(at_vertex[bent] < 0.7 * turn(polyline)[bent])
        assert at_vertex[bent].sum() < 0.5 * turn(polyline)[bent].sum()
        # through the vertices' own feet
        strip_feet = pts[m + at]
        assert np.all(np.linalg.norm(strip_feet[:, [0, 2]] - polyline, axis=1) < 1e-7)
