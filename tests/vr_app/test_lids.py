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


def test_a_closing_lid_slides_past_its_lash_band_and_darkens_to_a_lash_line(head):
    comb = _texture_above_lids(head, lambda x, y: (250, 250, 250) if x % 2 else (20, 15, 10), reach=0.12)
    lids = ClosingLids(head.uvs, head.vertices, eye_openings(head), comb, np.array(SKIN, np.float32))
    assert set(lids.ids) == {"l", "r"}
    mesh = _mesh(head)
    data = mesh.data
    for side, ids in lids.ids.items():
        height = np.ptp(head.uvs[eye_openings(head)[side]["ring"], 1])
        assert lids.shift[side][1] >= 0.12 * height  # past the lashes, into plain skin
        assert np.all(head.vertices[ids, 1] > head.vertices[eye_openings(head)[side]["ring"], 1].min())  # upper lid only

    _apply(lids, _code(0.1), mesh)  # an open eye keeps its lashes
    assert np.array_equal(data[:, 6:8], head.uvs) and np.all(data[:, 8:11] == 1.0)
    _apply(lids, _code(0.5), mesh)  # a half-closed lid already shows skin: stretched lashes drew a white comb
    for side, ids in lids.ids.items():
        assert np.all((data[ids, 7] - head.uvs[ids, 1]) >= 0.75 * lids.shift[side][1] - 1e-6)
    assert _apply(lids, _code(1.0), mesh) == 2
    for side, ids in lids.ids.items():
        assert np.allclose(data[ids, 6:8], head.uvs[ids] + lids.shift[side], atol=1e-6)
        assert np.allclose(data[ids, 8:11], lid_module.LASH_SHADE)
    others = np.setdiff1d(np.arange(len(data)), np.concatenate(list(lids.ids.values())))
    assert np.array_equal(data[others, 6:8], head.uvs[others]) and np.all(data[others, 8:11] == 1.0)
    assert _apply(lids, _code(1.0), mesh) == 0  # nothing to rewrite for the same blink
    mesh.update_vertices(head.vertices)  # the rows go out with the positions
    _apply(lids, _code(0.0), mesh)
    assert np.allclose(data[:, 6:8], head.uvs) and np.all(data[:, 8:11] == 1.0)  # opens back exactly


def test_a_glasses_frame_above_the_eye_is_not_taken_for_lid_skin(head):
    glasses = _texture_above_lids(head, lambda x, y: (25, 20, 20), reach=0.45)  # a dark frame over the lids
    for eye in eye_openings(head).values():  # the lid's edge itself is skin
        for u, v in head.uvs[eye["ring"]]:
            glasses[int(round((1 - v) * (SIZE - 1))), int(round(u * (SIZE - 1)))] = SKIN
    lids = ClosingLids(head.uvs, head.vertices, eye_openings(head), glasses, np.array(SKIN, np.float32))
    assert all(abs(float(d[1])) < 1e-9 for d in lids.shift.values()), lids.shift


def test_a_closing_lid_slides_past_pale_eyeshadow_to_even_skin(head):
    """Above her lashes a pale, uneven eyeshadow band: closed over the eye it read as the white of an
    open eye (the landmark detector put the lid at its top: blink 0.8 read 0.25 on the shared clip).
    The edge slides past it to the even skin above; with the old reach (0.3 of the opening) it stopped
    on the eyeshadow."""
    eyes = eye_openings(head)
    tex = _texture_above_lids(head, lambda x, y: (235, 225, 215) if x % 3 else (190, 170, 160), reach=0.4)
    lashes = _texture_above_lids(head, lambda x, y: (250, 250, 250) if x % 2 else (20, 15, 10), reach=0.1)
    near_edge = np.all(lashes != SKIN, axis=-1)
    tex[near_edge] = lashes[near_edge]
    lids = ClosingLids(head.uvs, head.vertices, eyes, tex, np.array(SKIN, np.float32))
    for side in lids.ids:
        height = np.ptp(head.uvs[eyes[side]["ring"], 1])
        assert lids.shift[side][1] > 0.4 * height, (side, lids.shift[side][1] / height)  # past the eyeshadow



def test_a_dark_purple_glasses_frame_is_not_crossed_either():
    """Above a lid's edge: lashes, then a dark purple frame (sRGB 130, 10, 150: a fifth of the skin's
    luminance), then skin. Rec. 601's weights rated the frame at 0.38 of the skin's luma, above
    DARK_ROW, so the edge slid through it to the skin beyond; with Rec. 709's (the sRGB primaries,
    as the eyes use) it is 0.29 and never crossed."""
    tex = np.empty((101, 8, 3), np.uint8)  # row y holds v = 1 - y / 100
    tex[:61] = SKIN  # from 0.4 of the opening up
    tex[61:72] = (130, 10, 150)
    tex[72:] = (25, 20, 20)  # the lashes, up to 0.15
    edge = np.stack([np.linspace(0.1, 0.9, 5), np.full(5, 0.2)], 1)  # the edge on row 80
    shift = lid_module._slide(tex, edge, np.array([0.0, 0.5]), np.array(SKIN, np.float64))
    assert shift[1] <= 0.15 * 0.5 + 1e-6, shift
