"""Closing lids (vr_app/lids.py): a blink shows lid skin and a lash line, not the open eye's lash
band stretched into a comb of pale and dark streaks."""

from __future__ import annotations

import numpy as np
import pytest

from assets import expression
from vr_app import lids as lid_module
from vr_app.lids import ClosingLids
from vr_app.rig import eye_openings

from .heads import SKIN, make_head

SIZE = 256


@pytest.fixture(scope="module")
def head():
    return make_head(5)


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


def _mesh(head):
    from scenes.geom import MeshGeom

    return MeshGeom("head", head.vertices, head.faces, uvs=head.uvs, dynamic=True)


def _apply(lids, code, mesh) -> int:
    """Apply the lids' changes for `code` as the rig does; how many edges changed."""
    changes = lids.changes(code)
    for ids, uvs, grey in changes:
        mesh.set_rows(ids, uvs, grey)
    return len(changes)


def _code(blink: float) -> np.ndarray:
    return expression.from_dict({"blink_l": blink, "blink_r": blink})


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
    texel = 1.0 / (SIZE - 1)
    for side, ids in lids.ids.items():
        height = np.ptp(head.uvs[eyes[side]["ring"], 1])
        assert np.all(head.vertices[ids, 1] > head.vertices[eyes[side]["ring"], 1].min())  # upper lid only
        # past the lash line (its top 0.06 over the lid's top; lower at the corners), not past the eyeshadow
        assert 0.06 * height <= lids.shift[side][1] <= 0.35 * height, (side, lids.shift[side] / height)

    mesh = _mesh(head)
    data = mesh.data
    _apply(lids, _code(0.1), mesh)  # an open eye keeps its look
    assert np.array_equal(data[:, 6:8], head.uvs) and np.all(data[:, 8:11] == 1.0)
    assert _apply(lids, _code(1.0), mesh) == 2
    for side, ids in lids.ids.items():
        assert np.allclose(data[ids, 6:8], head.uvs[ids] + lids.shift[side], atol=1e-6)
    assert np.all(data[:, 8:11] == 1.0)  # her lid's own colour: the lash line is the strip's (LashLine)
    others = np.setdiff1d(np.arange(len(data)), np.concatenate(list(lids.ids.values())))
    assert np.array_equal(data[others, 6:8], head.uvs[others])
    assert _apply(lids, _code(1.0), mesh) == 0  # nothing to rewrite for the same blink
    mesh.update_vertices(head.vertices)  # the rows go out with the positions
    _apply(lids, _code(0.0), mesh)
    assert np.allclose(data[:, 6:8], head.uvs)  # opens back exactly


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
