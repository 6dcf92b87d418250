"""Eyeballs textured with the person's own eye (vr_app/eyes.py), on a painted eye of known colours."""

from __future__ import annotations

import numpy as np

from vr_app.eyes import (CATCHLIGHT_DIR, DEFAULT_SCLERA, LID_RIM, ball_mesh, catchlight_direction, clear_of_lids,
                         eye_texture, lid_band_texture)

SKIN, WHITE, IRIS = (190, 140, 110), (200, 190, 185), (60, 90, 140)
R_BALL, R_IRIS = 0.012, 0.006


def painted_eye(size=256):
    """A face texture (uv = 0.5 + x / 0.1, same for y) with an almond opening of sclera, an iris disc
    that the lower lid partly covers, and skin around; plus the lid ring [16,2] in head x, y."""
    t = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    ring = np.stack([0.014 * np.cos(t), 0.0045 * np.sin(t)], 1)  # 28 x 9 mm opening
    tex = np.empty((size, size, 3), np.uint8)
    tex[:] = SKIN
    ys, xs = np.mgrid[0:size, 0:size]
    x = (xs / (size - 1) - 0.5) * 0.1
    y = (0.5 - ys / (size - 1)) * 0.1
    inside = (x / 0.014) ** 2 + (y / 0.0045) ** 2 < 1
    tex[inside] = WHITE
    tex[inside & (np.hypot(x, y + 0.002) < R_IRIS)] = IRIS
    return tex, ring


def uv_of(xy):
    return 0.5 + xy / 0.1


def test_the_eyeball_shows_the_photographed_eye_and_fills_what_the_lids_hid():
    tex, ring = painted_eye()
    iris_centre = np.array([0.0, -0.002])
    points = np.concatenate([ring, iris_centre[None]])
    out = eye_texture(tex, points, uv_of(points), ring, np.zeros(2), iris_centre, R_BALL, R_IRIS, size=64)

    def at(x, y):  # texel at head x, y (metres from the ball's axis)
        col = int((x / R_BALL + 1) / 2 * 64)
        row = int((1 - (y / R_BALL + 1) / 2) * 64)
        return out[row, col].astype(int)

    assert np.abs(at(0.0, -0.002) - IRIS).max() < 12  # the iris, seen
    assert np.abs(at(0.010, 0.0) - WHITE).max() < 12  # the sclera in the corner, seen
    assert np.abs(at(0.0, -0.0065) - IRIS).max() < 12  # under the lower lid: the iris continues
    assert np.abs(at(0.0, 0.0115) - WHITE).max() < 12  # well under the upper lid: sclera, never skin
    assert np.abs(out.reshape(-1, 3).astype(int) - SKIN).sum(-1).min() > 30  # no skin texel anywhere


def test_a_texture_without_an_eye_gets_a_drawn_one():
    tex, ring = painted_eye()
    tex[:] = SKIN  # eyes not in the texture (closed in every picture)
    points = np.concatenate([ring, np.zeros((1, 2))])
    out = eye_texture(tex, points, uv_of(points), ring, np.zeros(2), np.zeros(2), R_BALL, R_IRIS, size=64)
    assert out[32, 32].sum() < 100  # a dark pupil on the axis
    assert np.abs(out[32, 2].astype(int) - DEFAULT_SCLERA).max() < 2  # a muted white at the side


def test_ball_is_closed_wound_outwards_and_dense_over_the_cornea():
    import trimesh

    verts, faces, uvs = ball_mesh(R_BALL)
    mesh = trimesh.Trimesh(verts, faces, process=False)
    assert mesh.is_watertight and mesh.volume > 0
    front = verts[:, 1] < -R_BALL * np.cos(np.radians(30))  # within 30 degrees of the front pole
    assert front.sum() > 200  # enough vertices for a per-vertex highlight
    assert np.allclose(uvs[np.argmin(verts[:, 1])], (0.5, 0.5))


def test_the_ball_is_dark_right_under_the_upper_lid():
    """The ball sits behind the lids: a view from a little above sees a sliver of it just outside the
    opening. There it is in the lashes' shadow (dark), not plain white, which drew a pale line along
    the upper lid; further under, the white comes back."""
    tex, ring = painted_eye()
    iris_centre = np.array([0.0, -0.002])
    points = np.concatenate([ring, iris_centre[None]])
    out = eye_texture(tex, points, uv_of(points), ring, np.zeros(2), iris_centre, R_BALL, R_IRIS, size=64)
    luma = out.astype(float) @ [0.2126, 0.7152, 0.0722]
    white = float(np.dot(WHITE, [0.2126, 0.7152, 0.0722]))
    col = 32  # x = 0: the ring's top is at y = 4.5 mm
    rows = {round(float((1 - (r + 0.5) / 32) * R_BALL) * 1000, 1): r for r in range(32)}
    just_under = [r for y, r in rows.items() if 4.6 <= y <= 5.2]
    assert just_under and luma[just_under, col].max() < 0.5 * white
    assert luma[rows[min(rows, key=lambda y: abs(y - 11.0))], col] > 0.9 * white


def test_the_catchlight_goes_where_the_photo_shows_it():
    """A bright spot on the photographed iris places the highlight there (x right, y up on the unit
    ball); an iris without one gets the default place, and a bright sclera outside the iris is no
    catchlight."""
    ball = np.zeros((64, 64, 3), np.uint8)
    ball[:] = WHITE
    yy, xx = np.mgrid[0:64, 0:64]
    iris = np.hypot(xx - 31.5, yy - 31.5) < 16  # half the ball's radius
    ball[iris] = (30, 20, 15)
    assert np.allclose(catchlight_direction(ball, 0.4), CATCHLIGHT_DIR)
    ball[22:24, 36:38] = 250  # up and to the right of the middle
    x, y = catchlight_direction(ball, 0.4)
    assert 0.1 < x < 0.2 and 0.25 < y < 0.35, (x, y)


def test_the_ball_keeps_the_photographed_white_close_to_the_lower_lid():
    """The ball's own shaded colours along the lids stand under the lid band; along the lower lid that
    band is narrow (a wider one kept a fixed patch of the iris's foot when the gaze rose), so the white
    just above the lower lid is the photo's, not a grey line (the doll's white ring)."""
    tex, ring = painted_eye()
    iris_centre = np.array([0.0, -0.002])
    points = np.concatenate([ring, iris_centre[None]])
    out = eye_texture(tex, points, uv_of(points), ring, np.zeros(2), iris_centre, R_BALL, R_IRIS, size=128)
    col = int((0.0095 / R_BALL + 1) / 2 * 128)  # x = 9.5 mm, beside the iris: the ring's bottom is at y = -3.3 mm
    y_lid = -0.0045 * np.sqrt(1 - (0.0095 / 0.014) ** 2)
    row = int((1 - ((y_lid + 0.13 * R_IRIS) / R_BALL + 1) / 2) * 128)  # 0.8 mm above the lower lid
    assert np.abs(out[row, col].astype(int) - WHITE).max() <= 4, out[row, col]


def test_the_lid_band_is_the_photo_or_the_drawn_eye_the_ball_has():
    """The band along the lids shows the photo as it is (lashes and all) where the ball shows the
    photographed eye, and the ball's drawn eye where the photo has none (a closed lid's skin would line
    an open drawn eye)."""
    tex, ring = painted_eye()
    lash = (15, 12, 10)
    ys, xs = np.mgrid[0:256, 0:256]
    x, y = (xs / 255 - 0.5) * 0.1, (0.5 - ys / 255) * 0.1
    tex[((x / 0.014) ** 2 + (y / 0.0045) ** 2 < 1) & ((x / 0.014) ** 2 + (y / 0.0035) ** 2 > 1) & (y > 0)] = lash
    iris_centre = np.array([0.0, -0.002])
    points = np.concatenate([ring, iris_centre[None]])
    half = 0.016
    band = lid_band_texture(tex, points, uv_of(points), ring, np.zeros(2), iris_centre, half, R_BALL, R_IRIS, size=128)
    ball = eye_texture(tex, points, uv_of(points), ring, np.zeros(2), iris_centre, R_BALL, R_IRIS, size=128)
    # 0.5 mm under the upper lid at x = 8 mm: the lashes on the band, the ball's own shaded white under them
    yx = 0.0045 * np.sqrt(1 - (0.008 / 0.014) ** 2) - 0.0005
    b = band[int((1 - (yx / half + 1) / 2) * 128), int((0.008 / half + 1) / 2 * 128)].astype(int)
    o = ball[int((1 - (yx / R_BALL + 1) / 2) * 128), int((0.008 / R_BALL + 1) / 2 * 128)].astype(int)
    assert np.abs(b - lash).max() < 12, b
    assert o.sum() > 3 * sum(lash), o
    tex[:] = SKIN  # no eye in the photo: the band is the drawn eye, as the ball
    band = lid_band_texture(tex, points, uv_of(points), ring, np.zeros(2), iris_centre, half, R_BALL, R_IRIS, size=128)
    assert np.abs(band[64, 4].astype(int) - DEFAULT_SCLERA).max() < 2


def test_a_glint_on_the_lower_lid_is_no_catchlight():
    """Along the lids the ball shows the photo now (under the band): the wet lower lid's glint there
    must not be taken for the cornea's catchlight."""
    tex, ring = painted_eye()
    ball = np.zeros((64, 64, 3), np.uint8)
    ball[:] = WHITE
    yy, xx = np.mgrid[0:64, 0:64]
    ball[np.hypot(xx - 31.5, yy - 31.5) < 16] = (30, 20, 15)
    ball[42, 30:32] = 250  # y = -3.9 mm: 0.6 mm above the ring's bottom, on the iris's foot
    assert catchlight_direction(ball, 0.5)[1] < -0.3  # taken for the catchlight without the mask
    where = clear_of_lids(ring, R_BALL, R_IRIS, 64)
    assert LID_RIM * R_IRIS > 0.0006 and not where[42, 30:32].any() and where[32, 32]
    assert np.allclose(catchlight_direction(ball, 0.5, where), CATCHLIGHT_DIR)


def test_the_socket_card_shows_the_photo_beyond_the_lids_but_on_the_noses_half():
    """The socket card lies a centimetre behind the lids, so a view off its axis sees its part beyond the
    lid ring through the opening's corners: painted with the ball's hidden white it was a bright speck at
    the end of her lash line; the card shows the photo's skin there. On the nose's half (here +x) a turned
    head is seen past the inner corner into the socket: there the card keeps the ball's fill, as inside
    the ring, where card and ball agree."""
    from assets.mesh import inside_polygon
    from vr_app.eyes import texel_xy

    tex, ring = painted_eye()
    iris_centre = np.array([0.0, -0.002])
    points = np.concatenate([ring, iris_centre[None]])
    half = 0.018  # the card's square reaches past the corners (14 mm)
    args = (tex, points, uv_of(points), ring, np.zeros(2), iris_centre, half, R_IRIS)
    card, ball = eye_texture(*args, size=64, card_nasal=1.0), eye_texture(*args, size=64)

    def at(img, x, y):
        return img[int((1 - (y / half + 1) / 2) * 64), int((x / half + 1) / 2 * 64)].astype(int)

    for x, y in ((-0.0155, 0.0), (-0.006, -0.006), (-0.006, 0.0058)):  # past the outer corner, under/over the lids
        assert np.abs(at(card, x, y) - SKIN).max() < 12, (x, y)
        assert np.abs(at(ball, x, y) - SKIN).sum() > 60, (x, y)  # the ball's fill there (white)
    for x, y in ((0.0155, 0.0), (0.006, -0.006)):  # the nose's half
        assert np.array_equal(at(card, x, y), at(ball, x, y)), (x, y)
    inside = inside_polygon(texel_xy(half, 64), ring).reshape(64, 64)
    assert np.array_equal(card[inside], ball[inside])
