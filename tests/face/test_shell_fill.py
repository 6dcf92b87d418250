"""The shell's texels seen only edge-on: refilled from the well-seen texels of their own kind (synthetic)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

SKIN = np.array([200.0, 150.0, 120.0])
HAIR = np.array([30.0, 25.0, 20.0])
S = 1000.0  # pixels per metre
STEEP_FROM = 80  # photo column from which the surface turns away at 80 degrees


def _surface(h: int = 60, w: int = 120) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """A front surface (camera depth, metres) flat up to STEEP_FROM, then receding at 80 degrees from the
    camera's view (normal . view = cos 80 = 0.17), and the texels' photo pixels (one texel per pixel)."""
    x = np.arange(w, dtype=np.float64)
    z = -np.clip(x - STEEP_FROM, 0, None) / S * np.tan(np.radians(80))
    front = np.repeat(z[None], h, 0)
    px, py = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    return front, (px, py)


def _head() -> SimpleNamespace:
    """A stand-in head whose ear lobes lie at depth 0 (the surface's flat part)."""
    return SimpleNamespace(vertices=np.zeros((478, 3)), landmark_vertices=np.arange(478))


def test_a_texel_seen_only_at_80_degrees_is_not_taken_from_the_photo():
    """A white earring seen edge-on (n.v 0.17) was kept at three quarters of its colour and stretched over
    the side of the head (a white streak seen turned); now it is as unseen: the fill of the well-seen
    dark hair beside it. What the photo saw squarely stays as it is."""
    from generation.face.bust import shell_colours

    front, pixels = _surface()
    h, w = front.shape
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[:, :40] = SKIN
    rgb[:, 40:] = HAIR
    rgb[:, STEEP_FROM:] = 250  # the stretched streak
    out = shell_colours(rgb, pixels, front, np.eye(3), np.zeros(2), S, np.zeros((h, w)), _head(), (), None,
                        np.ones((h, w), bool)).astype(float)
    band = out[:, STEEP_FROM + 5:].mean((0, 1))
    assert band.mean() < 100, f"the edge-on texels kept the streak's colour: {band.round()}"
    assert np.abs(out[:, :30] - SKIN).max() < 2 and np.abs(out[:, 45:75] - HAIR).max() < 2


def test_a_refilled_texel_behind_the_ear_takes_the_hairs_colour_not_the_skins():
    """Behind the ear the photo holds only the ear's skin, stretched edge-on; the well-seen skin of the ear
    and cheek lies right beside it, the well-seen hair further off. The refilled texels take the hair's
    colour (they were a blur of the skin around them: skin where her hair goes on behind the ear)."""
    from generation.face.bust import EAR_DEPTH, shell_colours

    front, pixels = _surface()
    h, w = front.shape
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[:, :40] = HAIR
    rgb[:, 40:] = SKIN  # the cheek and ear, and the ear stretched over the steep part
    hair = np.zeros((h, w), bool)
    hair[:, :40] = True
    skin = np.zeros((h, w), bool)
    skin[:, 40:STEEP_FROM] = True
    turning = np.zeros((h, w))
    turning[:, STEEP_FROM:] = 1.0  # the side of the head, above the lobes
    out = shell_colours(rgb, pixels, front, np.eye(3), np.zeros(2), S, turning, _head(), (), None,
                        np.ones((h, w), bool), hair=hair, skin=skin).astype(float)
    behind = STEEP_FROM + int(np.ceil(EAR_DEPTH * S / np.tan(np.radians(80)))) + 2
    band = out[:, behind:].reshape(-1, 3)
    assert np.abs(band - HAIR).max() < 25, f"behind the ear: {band.mean(0).round()}, hair is {HAIR}"
    assert np.abs(out[:, 45:75] - SKIN).max() < 2  # the well-seen ear and cheek stay


def test_a_hair_coloured_side_is_refilled_from_hair_and_a_skin_coloured_one_from_skin():
    """Where the stretched colours are the hair's (above) the fill is the hair's, where they are the skin's
    (below) the skin's, each from well-seen texels of its own kind only, though both lie equally near."""
    from generation.face.bust import shell_colours

    front, pixels = _surface(h=120)
    h, w = front.shape
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[:, :STEEP_FROM:2] = HAIR  # seen well: hair and skin in fine stripes, equally near everywhere
    rgb[:, 1:STEEP_FROM:2] = SKIN
    rgb[:60, STEEP_FROM:] = HAIR + 10  # stretched: hair above, skin below
    rgb[60:, STEEP_FROM:] = SKIN - 10
    hair = np.zeros((h, w), bool)
    hair[:, :STEEP_FROM:2] = True
    out = shell_colours(rgb, pixels, front, np.eye(3), np.zeros(2), S, np.zeros((h, w)), _head(), (), None,
                        np.ones((h, w), bool), hair=hair, skin=~hair & (np.arange(w) < STEEP_FROM)).astype(float)
    # (beyond the hand-over from the seen stripes, where the kinds are mixed half and half)
    top = out[:20, STEEP_FROM + 20:].reshape(-1, 3)
    bottom = out[-20:, STEEP_FROM + 20:].reshape(-1, 3)
    assert np.abs(top - HAIR).max() < 25, top.mean(0).round()
    assert np.abs(bottom - SKIN).max() < 25, bottom.mean(0).round()


def test_texel_normals_are_the_meshs_own():
    """A texel's normal is its mesh cell's (here a plane rising 0.5 per unit of x), turned to the camera."""
    from generation.face.bust import texel_normals

    verts = np.array([[0, 0, 0], [1, 0, 0.5], [0, 1, 0], [1, 1, 0.5]], np.float64)
    faces = np.array([[0, 2, 1], [1, 2, 3]])  # wound away from the camera: still turned towards it
    fid = np.array([[0, 1, -1]])
    bary = np.full((1, 3, 3), 1 / 3)
    n = texel_normals(verts, faces, fid, bary)
    expected = np.array([-0.5, 0.0, 1.0]) / np.sqrt(1.25)
    assert np.allclose(n[0, 0], expected, atol=1e-6) and np.allclose(n[0, 1], expected, atol=1e-6)
    assert np.allclose(n[0, 2], [0, 0, 1])


def test_a_picture_sees_its_persons_outline_edge_on():
    """How squarely a picture saw a point, from how far inside the person's outline it lies (a sphere of the
    shell's inflation radius): edge-on at the outline, head-on a radius in, and rising in between."""
    from generation.face.bust import INFLATE_RADIUS, SHELL_SEEN_NZ, limb_facing

    d = np.linspace(0, INFLATE_RADIUS, 50)
    f = limb_facing(d)
    assert f[0] == 0 and abs(f[-1] - 1) < 1e-9 and np.all(np.diff(f) > 0)
    # a pixel or two inside the outline of a face ~300 px wide (s ~ 2000 px/m) is not trusted
    assert limb_facing(2 / 2000) < SHELL_SEEN_NZ[0]
