"""The teeth's texture and the teeth band's layout (vr_app/mouth.py): teeth told apart by the dark
line between them, bright crowns, gums above them; the hand-made test head has no mouth pocket, so
the rendered mouth is checked on the fitted demo head in tests/display/test_mouth.py."""

from __future__ import annotations

import numpy as np

from vr_app.colour import LUMA
from vr_app.mouth import (CAVITY_BACK_RGB, CAVITY_RIM_RGB, ROOT_HEIGHT, UPPER_CROWNS, UPPER_EDGES, UPPER_WIDTHS,
                          arch_mesh, teeth_texture)


def _column(x_m: float, w: int) -> int:
    """Texture column of a point x_m metres right of the row's middle (unscaled widths)."""
    half = UPPER_WIDTHS.sum()
    return int(round((0.5 + 0.5 * x_m / half) * w - 0.5))


def _row(height_m: float, h: int) -> int:
    return int(height_m / ROOT_HEIGHT * h)


def test_teeth_are_bright_and_told_apart_by_a_dark_line_between_them():
    tex = teeth_texture(UPPER_WIDTHS, UPPER_EDGES, UPPER_CROWNS).astype(float) / 255
    h, w = tex.shape[:2]
    luma = tex @ LUMA
    mid_row = _row(0.004, h)  # halfway up the central incisors
    incisor = luma[mid_row, _column(UPPER_WIDTHS[0] / 2, w)]
    between = luma[mid_row, _column(0.0, w)]  # the two central incisors meet here
    lateral = luma[mid_row, _column(UPPER_WIDTHS[0] + UPPER_WIDTHS[1] / 2, w)]
    assert incisor > 0.85, incisor
    assert lateral > 0.8, lateral
    assert between < 0.6 * incisor, (between, incisor)
    # at the biting edge the line opens into a wider notch
    edge_row = _row(0.0003, h)
    dark_mid = (luma[mid_row, _column(-0.001, w):_column(0.001, w) + 1] < 0.5).sum()
    dark_edge = (luma[edge_row, _column(-0.001, w):_column(0.001, w) + 1] < 0.5).sum()
    assert dark_edge > dark_mid


def test_gums_above_the_crowns_and_the_cavity_is_darker_than_any_tooth():
    tex = teeth_texture(UPPER_WIDTHS, UPPER_EDGES, UPPER_CROWNS).astype(float) / 255
    h, w = tex.shape[:2]
    gum = tex[_row(UPPER_CROWNS[0] + 0.001, h), _column(UPPER_WIDTHS[0] / 2, w)]
    assert gum[0] > 1.4 * gum[1], gum  # pink-red, not enamel
    crown = tex[: _row(UPPER_CROWNS.min() - 0.001, h)]
    teeth = crown[(crown @ LUMA) > 0.7]
    assert len(teeth) > 0.5 * crown.shape[0] * crown.shape[1]  # mostly teeth, not gaps
    assert CAVITY_RIM_RGB @ LUMA < 0.2 * (teeth @ LUMA).mean()
    assert CAVITY_BACK_RGB @ LUMA < CAVITY_RIM_RGB @ LUMA


def test_the_band_maps_its_biting_edge_and_root_onto_the_texture():
    cols, faces, colours, uvs = arch_mesh(np.zeros(3), UPPER_WIDTHS, UPPER_EDGES, 1.0, top=True)
    uvs = uvs.reshape(-1, 4, 2)
    assert uvs.min() >= 0 and uvs.max() <= 1
    assert np.all(np.diff(uvs[:, 0, 0]) > 0)  # u runs along the row
    assert np.all(uvs[:, 0, 1] > uvs[:, 1, 1] + 0.5)  # the front edge's v above the root's
    # the texture's rows are heights from the incisors' edge: each column's edge sits where its geometry does
    height = cols[:, 0, 1]  # the incisors' edge is at the band's `front`, y = 0
    assert np.allclose(1 - uvs[:, 0, 1], height / ROOT_HEIGHT, atol=1e-6)
    assert colours.shape == (len(cols) * 4, 3) and faces.max() < len(cols) * 4
