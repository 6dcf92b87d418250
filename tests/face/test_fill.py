"""The membrane fill of never-seen face texels: smooth, joined across UV seams, and true to the seen colours."""

from __future__ import annotations

import numpy as np
import pytest

from assets import expression


@pytest.fixture(scope="module")
def grace_unwrap(faces, grace_head):
    from generation.face.unwrap import unwrap

    img, lm = faces["grace"]
    return unwrap(img, lm, grace_head, expression.neutral(), size=512)


def _far_jumps(tex: np.ndarray, far: np.ndarray) -> np.ndarray:
    """Colour steps (sum over RGB) between grid neighbours that both lie in `far` [S,S] bool."""
    t = tex.astype(int)
    right = np.abs(t[:, 1:] - t[:, :-1]).sum(-1)[far[:, 1:] & far[:, :-1]]
    down = np.abs(t[1:] - t[:-1]).sum(-1)[far[1:] & far[:-1]]
    return np.concatenate([right, down])


def test_unseen_sides_have_no_straight_edged_patches(grace_unwrap, grace_head):
    """Her frontal photo leaves the sides of the head unseen. The nearest-texel fill extrudes the rim of
    what was seen, and its colour jumps where the nearest rim point changes (straight edges: flat
    skin wedges between cheek and ear); the membrane changes by at most a few levels per texel there."""
    import cv2

    from assets import landmarks as L
    from generation.face.fill import texel_positions
    from generation.face.unwrap import HAIR_ABOVE_EYES, complete_texture, uv_raster

    uv, mask = grace_unwrap
    fid, bary = uv_raster(grace_head, 512)
    mouth = np.zeros(len(grace_head.vertices), bool)
    mouth[grace_head.regions.get("mouth_interior", [])] = True
    skin = (fid >= 0) & ~np.all(mouth[grace_head.faces], 1)[np.maximum(fid, 0)]
    # Below the crown (which keeps the nearest hair on purpose), unseen texels at least 6 texels from
    # anything seen and from their island's border.
    eye_y = grace_head.vertices[grace_head.landmark_vertices[[L.EYE_L["iris"], L.EYE_R["iris"]]], 1].mean()
    below = texel_positions(grace_head, fid, bary)[..., 1] < eye_y + HAIR_ABOVE_EYES - 0.005
    away = (cv2.distanceTransform(((mask == 0) & skin).astype(np.uint8), cv2.DIST_L2, 5) >= 6) & below
    assert away.sum() > 5000
    nearest = _far_jumps(complete_texture(uv, mask, grace_head), away)
    smooth = _far_jumps(complete_texture(uv, mask, grace_head, smooth=True), away)
    # Measured on her portrait: nearest max 241 / 99.9th percentile 163 levels; membrane max 25 / 17.
    assert np.percentile(nearest, 99.9) > 80, "the old fill should show the jumps this test is about"
    assert smooth.max() <= 40, f"largest step {smooth.max()} levels"
    assert np.percentile(smooth, 99.9) <= 25


def test_a_single_seen_colour_fills_the_whole_head_with_it(grace_unwrap, grace_head):
    """Harmonic with a constant boundary is that constant: the fill invents no colour of its own (1 level)."""
    from generation.face.unwrap import complete_texture, uv_raster

    _, mask = grace_unwrap
    fid, _ = uv_raster(grace_head, 512)
    flat = np.where((mask > 0)[..., None], np.array([180, 120, 90], np.uint8), 0).astype(np.uint8)
    tex = complete_texture(flat, mask, grace_head, smooth=True)
    used = fid >= 0
    mouth = np.zeros(len(grace_head.vertices), bool)
    mouth[grace_head.regions.get("mouth_interior", [])] = True
    skin = used & ~np.all(mouth[grace_head.faces], 1)[np.maximum(fid, 0)]
    assert np.abs(tex[skin].astype(int) - [180, 120, 90]).max() <= 1


def test_the_fill_runs_across_uv_seams(grace_head):
    """The texel graph joins the islands where they meet on the surface: the head is one piece."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    from generation.face.fill import texel_graph
    from generation.face.unwrap import uv_raster

    fid, bary = uv_raster(grace_head, 256)
    used = fid >= 0
    e = texel_graph(grace_head, fid, bary, used)
    a, b = np.divmod(e[:, 0], 256), np.divmod(e[:, 1], 256)
    seam = np.abs(a[0] - b[0]) + np.abs(a[1] - b[1]) > 1
    assert seam.sum() > 100  # links across seams, not only grid neighbours
    g = sp.coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(256 * 256,) * 2)
    _, label = connected_components(g, directed=False)
    islands = np.unique(label[used.reshape(-1)])
    assert len(islands) == 1, f"{len(islands)} separate pieces"


def test_grazing_texels_below_the_eyes_fade_into_the_membrane(faces, grace_head, grace_unwrap):
    """Texels her photo saw only at a grazing angle (the side of the face towards the ear: each
    triangle there is a smear of a few pixels, with its own direction) are not shown raw below the
    eyes: the bust's texture has no sharper steps there than the fill."""
    from generation.face.bust import detailed_face_texture, view_trust
    from generation.face.fill import eye_height, texel_positions
    from generation.face.unwrap import uv_raster

    img, lm = faces["grace"]
    uv, mask = grace_unwrap
    fid, bary = uv_raster(grace_head, 512)
    trust = view_trust(img, lm, grace_head, expression.neutral(), fid, mask)
    low = texel_positions(grace_head, fid, bary)[..., 1] < eye_height(grace_head) - 0.01
    grazing = (mask > 0) & (trust < 0.2) & low
    assert grazing.sum() > 2000
    tex, _ = detailed_face_texture([(img, lm, 1.0)], grace_head, size=512)
    raw, done = _far_jumps(uv, grazing), _far_jumps(tex, grazing)
    # Measured: 99th percentile of the steps 267 levels in the raw unwrap, 53 in the bust's texture.
    assert np.percentile(raw, 99) > 150, "the raw unwrap should show the smears this test is about"
    assert np.percentile(done, 99) <= 100
