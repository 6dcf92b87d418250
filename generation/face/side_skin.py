"""The head's side as a single photo never saw it: her own skin continued round from the cheek.

A frontal photo sees the cheek's edge at a grazing angle (in shadow, its pixels stretched) and the
side out to the ear not at all. Filled by a membrane through what it saw, the side showed a blurred
second cheek with the jaw's shadow as a dark spot; filled with plain blurred skin it showed a flat,
orange side with an arc where the photo's texels ended. Here the side is split as skin is: its colour
(a membrane through the photo's well-seen skin, blurred, so it runs on from where the photo stops with
no edge) times her light (as the photo lit her cheeks, fitted against their normals and continued round
by the head's: darker towards the ears) times its detail (wrinkles and pores: patches of the photo's own
well-seen cheek skin, high-passed, laid over the side with overlapping windows). The UV layout keeps
about one scale over the face island (~0.5 mm per texel at 512), so the patches keep the photo's scale.
"""

from __future__ import annotations

import numpy as np

from assets.blend import smoothstep

from .delight import LUMA_601

SIDE_SEEN_NZ = (0.4, 0.7)  # normal . view: on the cheek a side texture keeps a texel the photo saw from the
# second on and none below the first (its edge, seen edge-on: a pale rim and the jaw's shadow), a wide hand-over
EYE_SEEN_NZ = (0.25, 0.6)  # the same beside the eyes, where the glasses' and the eyes' outer ends were seen
# at a slant: from there the photo's own texels are kept further round
EYE_ROWS = (0.015, 0.03)  # metres below the eyes over which the eyes' hand-over goes over to the cheek's
SIDE_MIDDLE = (0.03, 0.045)  # metres from the face's middle over which the refill comes in: the nose's and the
# mouth's sides, seen at a slant too, keep the photo
SKIN_LIGHT_BLUR = 12  # per 512 texels: the scale of the light the side continues (the texture's light
# below it, the photo's detail above it)
SKIN_DETAIL_BLUR = 4  # per 512 texels: detail finer than this is the skin's own (pores, wrinkles)
DETAIL_PATCH = 32  # per 512 texels: side of the square patches of her skin laid over the side (~16 mm)
DETAIL_BAND = (0.032, 0.08)  # metres below the eyes: the cheek rows the detail comes from (under the
# glasses' rims, above the jaw)
DETAIL_MID = 0.03  # metres from the face's middle a detail source keeps (the nose, the philtrum)
DETAIL_LIMIT = 0.12  # the detail's relative contrast is clipped to this (a stray dark pixel stays small)
DETAIL_SEED = 12  # the patches' placement is fixed: a bust built twice is the same
TEMPLE_X = (0.045, 0.06)  # metres from the face's middle over which the temples begin (the glasses' outer ends)
TEMPLE_ABOVE = (0.04, 0.07)  # metres above the eyes over which a temple's remade skin gives way to the front's
# (the hat's or the hair's, which the shell shows there): from the side a temple is seen as squarely as a cheek
SKIN_CHROMA = 0.5  # a colour source above the eyes is skin when its (R - B) / luma is within this share of the
# cheeks' (grey hair, a hat, the glasses' frame are not)
SHADE_FIT_NZ = 0.3  # normal . view from which her cheeks' light is read (below it the rim and the jaw's shadow)
SHADE_LIMITS = (0.5, 1.2)  # her light, relative to skin facing straight ahead, is kept within these


def side_keep(facing: np.ndarray, kept: np.ndarray, cheek: np.ndarray, size: int) -> np.ndarray:
    """[S,S] 0..1: how much of the photo a side texture keeps: on the `cheek` (0..1) all from
    SIDE_SEEN_NZ[1] on and none below SIDE_SEEN_NZ[0], beside the eyes the same over EYE_SEEN_NZ, and all
    where `kept` (0..1: above the eyes, where the hairline is seen at a slant too and the shell's hair
    fades into it; the nose). `facing` is one value per triangle: smoothed first, so the hand-over draws
    no triangle's edge."""
    import cv2

    low = EYE_SEEN_NZ[0] + cheek * (SIDE_SEEN_NZ[0] - EYE_SEEN_NZ[0])
    high = EYE_SEEN_NZ[1] + cheek * (SIDE_SEEN_NZ[1] - EYE_SEEN_NZ[1])
    soft = cv2.GaussianBlur(facing.astype(np.float32), (0, 0), 4 * size / 512)
    return np.maximum(smoothstep((soft - low) / (high - low)), kept).astype(np.float32)


def blurred(img: np.ndarray, weight: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """(img [S,S] or [S,S,3] blurred over `sigma` texels counting each texel by `weight` [S,S], the
    blurred weight [S,S])."""
    import cv2

    w = weight.astype(np.float32)
    tot = cv2.GaussianBlur(w, (0, 0), sigma)
    if img.ndim == 3:
        w, tot = w[..., None], tot[..., None]
    acc = cv2.GaussianBlur(img.astype(np.float32) * w, (0, 0), sigma)
    return acc / np.maximum(tot, 1e-6), tot.reshape(weight.shape)


def skin_detail(uv: np.ndarray, source: np.ndarray, target: np.ndarray, size: int) -> np.ndarray:
    """[S,S] float: relative detail (luminance / its local mean - 1) over `target` [S,S] bool, made of
    square patches of `uv`'s detail where `source` [S,S] bool holds whole patches, each in a raised-cosine
    window, half-overlapping, summed so the detail keeps its contrast (divided by the root of the summed
    squared windows: the patches are independent). Zero where no patch fits."""
    import cv2

    sigma = SKIN_DETAIL_BLUR * size / 512
    lum = uv.astype(np.float32) @ LUMA_601.astype(np.float32)  # the skin's relief is in its light, not its hue
    mean, _ = blurred(lum, source, sigma)
    detail = np.where(source, lum / np.maximum(mean, 1.0) - 1.0, 0.0).clip(-DETAIL_LIMIT, DETAIL_LIMIT)
    patch = max(8, int(round(DETAIL_PATCH * size / 512)))
    out = np.zeros((size, size), np.float32)
    while patch >= 8:
        whole = cv2.erode(source.astype(np.uint8), np.ones((patch, patch), np.uint8)) > 0  # centres of whole patches
        if whole.sum() >= patch:
            break
        patch //= 2
    else:
        return out
    ys, xs = np.nonzero(whole)
    if not target.any():
        return out
    rng = np.random.default_rng(DETAIL_SEED)
    win = np.hanning(patch + 2)[1:-1].astype(np.float32)
    win = np.outer(win, win)  # [P,P]
    step = patch // 2
    ty, tx = np.nonzero(target)
    energy = np.zeros((size, size), np.float32)
    h = patch // 2
    for y0 in range(ty.min() - h, ty.max() + 1, step):
        for x0 in range(tx.min() - h, tx.max() + 1, step):
            if not target[max(y0, 0):y0 + patch, max(x0, 0):x0 + patch].any():
                continue
            k = rng.integers(len(ys))
            sy, sx = ys[k] - patch // 2, xs[k] - patch // 2  # the source patch's corner (whole inside `source`)
            cy0, cx0 = max(y0, 0), max(x0, 0)
            cy1, cx1 = min(y0 + patch, size), min(x0 + patch, size)
            w = win[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
            src = detail[sy + cy0 - y0:sy + cy1 - y0, sx + cx0 - x0:sx + cx1 - x0]
            src = src - (w * src).sum() / max(float(w.sum()), 1e-6)  # zero mean: an offset would draw the windows' grid
            out[cy0:cy1, cx0:cx1] += w * src
            energy[cy0:cy1, cx0:cx1] += w * w
    return np.where(target, out / np.sqrt(np.maximum(energy, 1e-6)), 0.0)


def skin_like(uv: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """[S,S] bool: texels of `uv` [S,S,3] whose redness ((R - B) / luma) lies within SKIN_CHROMA of the `skin`
    texels' [S,S] bool median, and whose luma within a factor of two of theirs; all True without skin."""
    rgb = uv.astype(np.float32)
    lum = np.maximum(rgb @ LUMA_601.astype(np.float32), 1.0)
    red = (rgb[..., 0] - rgb[..., 2]) / lum
    if not skin.any():
        return np.ones(skin.shape, bool)
    ref_red, ref_lum = float(np.median(red[skin])), float(np.median(lum[skin]))
    return (np.abs(red - ref_red) <= SKIN_CHROMA * abs(ref_red)) & (lum > ref_lum / 2) & (lum < 2 * ref_lum)


def head_normals(head, fid: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """[S,S,3] outward unit normals of the neutral head at its texels (head axes: +z its front, +y up)."""
    v = np.asarray(head.vertices, np.float64)
    f = np.asarray(head.faces)
    fn = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])  # [F,3], |n| = 2 x area
    vn = np.zeros_like(v)
    for k in range(3):
        np.add.at(vn, f[:, k], fn)
    n = np.einsum("hwk,hwkc->hwc", bary, vn[f[np.maximum(fid, 0)]])
    n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)
    outward = np.einsum("hwc,hwc->hw", n, np.einsum("hwk,hwkc->hwc", bary, v[f[np.maximum(fid, 0)]]) - v.mean(0))
    return n * (np.sign(outward[fid >= 0].sum()) or 1.0)


def photo_light(lum: np.ndarray, normals: np.ndarray, facing: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """[S,S] her light as the photo lit her skin, relative to skin facing straight ahead: a constant plus
    a term linear in the normal (`normals` [S,S,3], head axes) fitted to the luminance `lum` [S,S] of the
    `skin` texels [S,S] bool seen from SHADE_FIT_NZ on (a fit that lets wrinkles and spots count less on
    each of a few rounds), so it goes on round the head as her light fell: darker to the side the light
    left, under the jaw if it came from above. 1 everywhere when too little skin was seen."""
    use = skin & (facing >= SHADE_FIT_NZ)
    if use.sum() < 200:
        return np.ones(lum.shape, np.float32)
    a = np.concatenate([np.ones((int(use.sum()), 1)), normals[use]], 1)  # [N,4]
    y = lum[use].astype(np.float64)
    w = np.ones_like(y)
    for _ in range(4):
        c = np.linalg.lstsq(a * w[:, None], y * w, rcond=None)[0]
        r = y - a @ c
        scale = 1.4826 * np.median(np.abs(r)) + 1e-6
        w = np.clip(1 - (r / (4 * scale)) ** 2, 0, 1)  # Tukey's: a wrinkle or a spot counts little
    ahead = c[0] + c[3]
    if ahead <= 0:
        return np.ones(lum.shape, np.float32)
    out = (c[0] + normals @ c[1:]) / ahead
    return np.clip(out, SHADE_LIMITS[0], SHADE_LIMITS[1]).astype(np.float32)


def continued_skin(front: np.ndarray, uv: np.ndarray, seen: np.ndarray, facing: np.ndarray, trust: np.ndarray,
                   head, fid: np.ndarray, bary: np.ndarray, above: np.ndarray,
                   signs: tuple[float, ...] = (-1.0, 1.0)) -> list[np.ndarray]:
    """Side textures [S,S,3] uint8, one per sign in `signs` (-1: her right side, +1: her left): the `front`
    texture with what a single photo saw badly or not at all below the eyes made of her skin continued
    round from what it saw well (see the module's docstring), on that side of the head only: a view from
    there sees the other side more edge-on than the photo did, and there the photo's cheek and its outline
    are the best there is. `uv` [S,S,3] the photo's colours where `seen`, `facing` [S,S] the surface's
    normal . view from the photo's camera, seen or not (0 edge-on and turned away), `trust` (`view_trust`)
    0..1, `above` 0..1 the texels above the eyes, which stay the front's, as does the mouth's inside."""
    from .fill import eye_height, harmonic_fill, texel_positions
    from .bust import TRUSTED, _away_from_moving_parts
    from .glasses_arm import drawn, glasses_arm

    size = fid.shape[0]
    used = fid >= 0
    xyz = texel_positions(head, fid, bary)
    a, b = SIDE_MIDDLE
    middle = 1 - smoothstep((np.abs(xyz[..., 0]) - a) / (b - a))
    depth = eye_height(head) - xyz[..., 1]
    # The temples, beside the glasses up to the hat, are remade as the cheeks are: the front there is a membrane
    # through what the photo saw edge-on (a pale blur between the glasses and the hat seen at 35 degrees).
    a, b = TEMPLE_X
    temple = smoothstep((np.abs(xyz[..., 0]) - a) / (b - a))
    a, b = TEMPLE_ABOVE
    above = (1 - temple) * above + temple * smoothstep((-depth - a) / (b - a))
    kept = np.maximum(above, middle)  # where the front stays as it is
    cheek = smoothstep((depth - EYE_ROWS[0]) / (EYE_ROWS[1] - EYE_ROWS[0]))
    cheeks = (used & (depth > DETAIL_BAND[0]) & (depth < DETAIL_BAND[1]) & (np.abs(xyz[..., 0]) > DETAIL_MID)
              & (_away_from_moving_parts(head, xyz) > 0.999))
    trusted = np.clip(trust / TRUSTED, 0, 1)
    skin_coloured = skin_like(uv, cheeks & seen)
    keep = side_keep(facing * seen, kept, cheek, size) * trusted
    # Above the eyes what the photo saw that is not skin (her grey hair, the brows' and the glasses' ends) is
    # kept as far as it is trusted, not only where seen squarely: remade, it went to skin.
    keep = np.maximum(keep, (depth < 0) * ~skin_coloured * trusted)
    keep = np.where(seen, np.maximum(keep, kept), 0).astype(np.float32)
    under = used & (above < 1)
    # Her light: as it fell on her cheeks, continued round the head by the surface's own turn (`photo_light`).
    lum = uv.astype(np.float32) @ LUMA_601.astype(np.float32)
    shade = photo_light(lum, head_normals(head, fid, bary), facing, cheeks & seen)
    # Her skin's colour without that light: the photo's well-kept texels blurred (weighted by how much
    # they are kept, so the grazing edge's shadow and pale rim add little), then a membrane over the rest
    # below the eyes through them only: no hat, hair or collar drawn in (those texels take no part).
    # (above the eyes only skin is a source: not the hat, her grey hair or the glasses' frame)
    skin = keep * under * (skin_coloured | (depth > 0))
    colour, tot = blurred(uv / shade[..., None], skin, SKIN_LIGHT_BLUR * size / 512)
    known = under & (keep > 0.5) & (tot > 0.05)
    mouth = np.zeros(len(head.vertices), bool)
    mouth[head.regions.get("mouth_interior", [])] = True
    in_mouth = np.where(used, np.all(mouth[head.faces], 1)[np.maximum(fid, 0)], False)
    todo = under & ~known & ~in_mouth
    light = harmonic_fill(np.where(known[..., None], colour, 0.0), known, todo, head, fid, bary) * shade[..., None]
    # The detail: her cheeks' own, from below the glasses' rims to above the jaw, off the nose and lips.
    source = cheeks & seen & (keep > 0.999) & (trust > 0.9)
    detail = skin_detail(uv, source, todo | (under & (keep < 1)), size)
    made = light * (1.0 + detail[..., None])
    out = np.where((known | todo)[..., None], made, uv.astype(np.float32))
    out = keep[..., None] * uv + (1 - keep[..., None]) * out
    sides = []
    for sign in signs:
        ours = ((1 - np.maximum(kept, sign * xyz[..., 0] < 0)) * (under & ~in_mouth))[..., None]
        arm = glasses_arm(uv, seen, facing, xyz, used, cheeks & seen, head, eye_height(head), sign)
        sides.append(drawn(ours * out + (1 - ours) * front, arm).round().clip(0, 255).astype(np.uint8))
    return sides
