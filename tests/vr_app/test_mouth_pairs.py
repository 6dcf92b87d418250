"""The teeth clear the face also where a one-sided pair of mouth controls moves it only while both move
(the pair's joint motion, `HeadModel.pair_shapes`): her real smile is both corners at once."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from panda3d.core import GeomVertexReader, NodePath

from assets import expression
from tests.vr_app.heads import MOUTH_Y, make_head
from vr_app.mouth import SURFACE_CLEARANCE, MouthInterior, front_surface, pair_motions
from scenes.geom import from_panda

PAIR = ["mouth_smile_l", "mouth_smile_r"]


def _smiling_head(back_m: float):
    """The test head whose two smiles, together only, pull the lips and the skin round them `back_m` back."""
    head = make_head(subdivisions=4)
    v = head.vertices
    near = np.clip(1.0 - np.hypot(v[:, 0], v[:, 1] - MOUTH_Y) / 0.03, 0.0, 1.0) * (v[:, 2] > 0)
    pair = np.zeros((1,) + v.shape, np.float32)
    pair[0, :, 2] = -back_m * near
    return replace(head, meta={**head.meta, "pairs": [PAIR]}, pair_shapes=pair)


def _upper_teeth(head) -> tuple[MouthInterior, np.ndarray]:
    inside = MouthInterior(head, NodePath("pivot"), np.zeros(3, np.float32), head.faces)
    node = inside.upper.node()
    pts = []
    for g in range(node.get_num_geoms()):
        reader = GeomVertexReader(node.get_geom(g).get_vertex_data(), "vertex")
        while not reader.is_at_end():
            pts.append(list(reader.get_data3()))
    return inside, from_panda(np.array(pts, np.float32))


def _margin(teeth_head, face_head, code: np.ndarray) -> float:
    """The nearest the upper teeth placed for `teeth_head` come to `face_head`'s face (metres behind its
    surface) at `code`."""
    inside, teeth = _upper_teeth(teeth_head)
    verts = face_head.deform(code)
    fid, bary = front_surface(verts, inside.faces, teeth[:, :2])
    front = (bary * verts[inside.faces[np.maximum(fid, 0)]][..., 2]).sum(-1)
    return float(np.where(fid >= 0, front - teeth[:, 2], np.inf).min())


def _without_pairs(head):
    return replace(head, meta={k: v for k, v in head.meta.items() if k != "pairs"}, pair_shapes=None)


def test_the_teeth_clear_the_face_with_both_smiles_of_a_one_sided_pair():
    head = _smiling_head(0.004)
    both = expression.from_dict({PAIR[0]: 1.0, PAIR[1]: 1.0})
    assert np.abs(head.deform(both) - head.vertices).max() > 0.0035  # the pair alone moves the lips back
    assert _margin(head, head, both) >= SURFACE_CLEARANCE - 1e-5
    # placed from the single smiles alone (which move nothing here) they came through the smiling lips
    assert _margin(_without_pairs(head), head, both) < 0.0


def test_a_pair_that_adds_no_motion_leaves_the_teeth_where_they_were():
    head = _smiling_head(0.0)
    assert len(pair_motions(head, PAIR)) == 1 and pair_motions(_without_pairs(head), PAIR) == []
    np.testing.assert_array_equal(_upper_teeth(head)[1], _upper_teeth(_without_pairs(head))[1])


def test_pair_motions_are_the_pair_s_joint_shape():
    head = _smiling_head(0.002)
    (motion,) = pair_motions(head, ("mouth_smile_l", "mouth_smile_r", "jaw_open"))
    both = expression.from_dict({PAIR[0]: 1.0, PAIR[1]: 1.0})
    np.testing.assert_allclose(head.vertices + motion, head.deform(both), atol=1e-7)
    assert pair_motions(head, ("jaw_open", "mouth_smile_l")) == []  # a pair counts only with both its controls
