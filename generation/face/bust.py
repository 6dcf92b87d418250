"""Hair and upper body as geometry, from the person's own photo: a silhouette-inflated shell.

The person segment of the best photo is lifted into the head's frame with the head pose fitted
to that photo (weak perspective, as in pose.py): every segment pixel becomes a point on a front
surface and on a back surface, pushed out from a middle plane through the skull centre by an
inflation that grows with the distance to the silhouette's edge (a round body seen from the
front). So the bust's outline seen from the photo's camera is the photo's outline, hair volume,
ears, collar and shoulders included, and it stays a closed volume when seen from the side.

Near the head the shell follows the head mesh: over the hair it lies just in front of the
skull (the photo's hair covers the painted scalp), over the face it lies behind it (the head
mesh and the generator's texture own the face). The front is textured with the photo, the back
with the photo whose face and skin are replaced by the nearest hair, and the edge fades out
with the segment's own probability (alpha). Each vertex carries a weight saying how much it
follows the head when it turns (1 on the hair, 0 on the shoulders, smooth across the neck).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assets import landmarks as L
from assets import expression
from assets.blend import smoothstep
from . import topology as T
from .delight import LUMA_601, delight
from .errors import GeometryError, check_landmarks
from .unwrap import GRAZING_NZ
from .jewellery import LOBE, earrings
from .pose import fit_pose, matrix_from_euler, project
from .raster import rasterize
from .segment import fill_nearest, segment_person
from .shell_layout import SurfaceLayout, sample

SKULL_CENTRE_Z = -0.09  # metres behind the eye midpoint: the middle plane of the shell
INFLATE_RADIUS = 0.09  # metres: curvature of the inflation (a sphere of about a head's size)
BACK_SQUASH = 0.85  # the back surface bulges a little less than the front
HAIR_GAP = 0.003  # metres the hair shell keeps over the skull
GRID_CELLS = 70  # grid cells along the segment's longer side (the outline comes from the alpha, not the grid)
TEXTURE_MAX = 1024
SIDE_SUPERSAMPLE = 2.0  # texels per photo pixel at most: turned views see the sides denser than the photo
CROWN_ABOVE = 0.03  # metres above the face's top landmark where hair (or a hat, or a bald crown) begins
JAW_ROOM = 0.015  # metres below the chin left to the head mesh, for the jaw to open into
EDGE_FADE = 0.006  # metres over which the shell fades into the face
CHEST_CONTINUED = 0.08  # at most this many metres of chest are made up below the picture (unless the neck is longer)
SEAM_BLEND = 0.03  # metres below the picture over which its last row becomes the made-up chest's colours
DETAIL_CONTRAST = 80.0  # levels from the chest's smoothed colour at which a cut detail ends within 0.1 of SEAM_BLEND
NECK_COVER = 0.01  # metres the shell reaches below the head mesh's neck
PERSON_RIM = 0.03  # of the face's size: the segment's rim a face texel must keep away from
FRONT_NZ = 0.45  # a face texel seen at least this squarely (normal . view) is fully trusted
RIM_TEXELS = 16  # per 512 texels: the rim of a view's seen region that fades into the fill
HOLE_TEXELS = 400  # per 512x512 texels: an unseen patch this small inside the seen ones is a hole, not an edge
HOLE_INPAINT = 3  # per 512 texels: the radius a hole's colours are taken from around it
TURNED_SOFTNESS = 0.05  # of normal . view: over which a turned picture takes a texel over on a side texture
MOVING_REACH = (0.006, 0.014)  # metres from the lips' and eyelids' landmarks over which turned pictures come in
LEVEL_BLUR = 24  # per 512 texels: the scale of the light a turned picture is levelled over
TAKE_BLUR = 4  # per 512 texels: over which a side texture goes over from the sharp views to a turned one
SEEN_BLUR = 6  # per 512 texels: how much of what was seen less well is blurred before it is shown
CUT_RIM = 32  # per 512 texels: the seen rim along a person segment's cut through the face that goes to the fill
TRUSTED = 0.6  # trust from which a seen texel is kept as it is
SHARP_ABOVE_EYES = (0.01, 0.04)  # metres above the eyes over which every seen texel becomes trusted
BUST_BOTTOM = 0.48  # metres below the eyes: a picture that cuts the chest off higher is continued to here
RIM_PX = 2  # photo pixels along the segment's edge that may still be background
PERSON_SHARE = 0.95  # a rim pixel that is a blend with less of the person than this in it is background
BLEND_PX = 3  # photo pixels further in than RIM_PX over which a soft photo still blends the wall into the person
MIX_RESIDUAL = 30.0  # RGB levels: a rim pixel this close to a blend of the person and the wall is such a blend,
MIX_SLACK = 0.25  # ... or this close, as a share of the distance between the person's and the wall's colours
HUE_APART = 45.0  # RGB levels between the person's and the wall's hue from which a rim pixel's hue is judged alone (skin
# against a grey wall: ~40; her skin against the flag: 53)
LUMA_F32 = LUMA_601.astype(np.float32)
SIDE_VIEWS = 2  # per side: the most turned real pictures that also texture the shell (hair, ears)
BEST_VIEW_BONUS = 0.2  # of n.v: the shell's own photo keeps a texel unless another view sees it clearly better
VIEW_SOFTNESS = 0.04  # of n.v: how softly a texel goes over from one view to the one that sees it better
# n.v below which a shell texel is a guess, and from which it is trusted. Measured on the clip's training
# frames: where a turned frame sees the side of her head squarely (n.v >= 0.45), the photo's texels differ from
# it by 13-17 grey levels from n.v 0.3 on, 21 at 0.25-0.3, 37 at 0.2-0.25 and 49 at 0.15-0.2 (stretched pixels of
# the ear, earring and jaw, not the surface's own detail).
SHELL_SEEN_NZ = (0.2, 0.3)
SHELL_FRONT_NZ = (0.08, 0.2)  # the same, for the front as the photo's own camera sees it (its pixels are right there)
SHELL_HANDOVER = 0.005  # metres over which trusted shell texels hand over to the fill (a few photo pixels)
SIDE_SPLIT = 0.02  # metres across the middle over which the shell's sides go over from one to the other
EAR_DEPTH = 0.02  # metres behind the ear lobes' landmarks from which an unseen texel over the head is hair
SHELL_FILL_BLUR = 0.02  # metres: the fill of badly seen shell texels is what was seen well around them
BACK_RIM = 0.01  # metres from the outline over which the back of the head goes over to the crown's colours
CROSS_FADE = 0.01  # metres the shell's front may lie behind its back (past the 0.5 outline) before it is unseen
TUCK_SLOPE = 1.0  # beside the face, the shell beyond the head's outline goes back this many metres per metre out
TUCK_REACH = 0.03  # metres beyond the head's outline over which the shell beside the face follows the head
TUCK_FADE = 0.015  # metres over which that goes over to the inflation (beyond the reach, above the brows, to the chin)
TUCK_THICKNESS = 0.01  # metres: where the shell's front and back are closer than this they are moved back together
EAR_BOX = (0.012, 0.045, 0.035, 0.012, 0.01)  # metres around an ear lobe's landmark: below, above, behind, ahead, in
EAR_LUMA = 70.0  # grey levels: an ear box's texels darker than this are hair, not the ear's own light
EAR_TEXELS = 50  # fewest texels of the near ear and of the far cheek to bring a mirrored ear into the far side's light
CHEEK_REACH = 0.03  # metres: the cheek in front of an ear, whose skin is a side's light
HAIR_BELOW_GREY = 0.25  # of luma: the most its channels may spread for a texel to be grey or white hair
HAIR_BELOW_TEXELS = 50  # fewest texels (per photo pixel squared) of hair beside the head below the crown to draw it
HAIR_BELOW_BLUR = 0.01  # metres: that hair's colours are smoothed over this (no streaks from the photo's few pixels)
HAIR_BELOW_FADE = 0.02  # metres below the crown's lowest row over which the back goes over from the crown to it
HAIR_BELOW_SHADE = 0.75  # that hair's light behind the ear, in the shade of the ear and the crown, of its seen light
HAIR_STRAND = (0.0007, 0.005, 0.2)  # metres across and along a strand, and its relative contrast
HAIR_SEED = 7  # the strands' noise is fixed: a bust built twice is the same
EAR_HUE = (12.0, 30.0)  # RGB levels of hue from her skin's over which a single photo's ear texel takes her skin's hue
EAR_LIGHT = 1.15  # of her skin's luma: a single photo's ear seen turned is compressed above this (its pale streaks)
EAR_GAIN = (0.6, 1.2)  # the least and most a mirrored ear's channels are scaled by
# metres round an ear lobe's landmark (below, above, inwards, ahead) where the skin between cheek and ear is lit
# as the cheek (`_before_ear`), fading over BEFORE_EAR_SOFT; the well-seen skin's light is measured over
# BEFORE_EAR_BLUR texels (per 512) round it; it is raised by at most BEFORE_EAR_MAX
BEFORE_EAR = (0.01, 0.05, 0.03, 0.045)
BEFORE_EAR_SOFT = 0.01
BEFORE_EAR_BLUR = 48
BEFORE_EAR_MAX = 1.6
EAR_TURN = 3.0  # degrees: a photo turned further than this from the head's front sees its far ear edge-on
# metres around the far ear lobe's landmark (as EAR_BOX) over which the far ear's own strip is hidden seen turned:
# down to an earring's drop, and however far back the strip runs along the outline (the hair there is kept)
STRIP_BOX = (0.03, 0.055, np.inf, 0.012, 0.01)
STRIP_YAWS = (20.0, 27.5, 35.0)  # degrees round to the far side from which a hidden strip texel must show something


def person_around_face(image: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """The subject's person segment [H,W]: segmented in a window around their face (a bust's extent:
    2.5 face sizes to each side, 1.5 above, 4 below), so in a group photo or a wide shot the model sees
    them large and nobody else joins; zero outside the window."""
    h, w = image.shape[:2]
    face = max(float(np.ptp(lm[:, 0])), float(np.ptp(lm[:, 1])), 1.0)
    cx, cy = float(lm[:, 0].mean()), float(lm[:, 1].mean())
    x0, x1 = int(max(0, cx - 2.5 * face)), int(min(w, cx + 2.5 * face))
    y0, y1 = int(max(0, cy - 1.5 * face)), int(min(h, cy + 4.0 * face))
    prob = np.zeros((h, w), np.float32)
    nose = (float(lm[L.NOSE_TIP, 0]) - x0, float(lm[L.NOSE_TIP, 1]) - y0)
    prob[y0:y1, x0:x1] = segment_person(np.ascontiguousarray(image[y0:y1, x0:x1]), keep_at=nose)
    return prob


def _grid_step(face_px: float, box: tuple[int, int, int, int]) -> float:
    x0, y0, x1, y1 = box
    return max(1.5, max(x1 - x0, y1 - y0) / GRID_CELLS, face_px / 60)


def lift_person(image: np.ndarray, landmarks_px: np.ndarray, head, code: np.ndarray | None = None,
                prob: np.ndarray | None = None, side_views=(), calibration=None, side_probs=None) -> dict:
    """The shell for one photo (RGB uint8 [H,W,3], its [478,3] landmarks, the fitted HeadModel).
    `side_views`: other (RGB image, its [478,3] landmarks) of the person, turned, whose view of the
    hair and ears the shell takes where they see them more squarely than the photo (shell_colours);
    `side_probs`: their person segments (`person_segment`), segmented here when omitted.

    Returns vertices [V,3] (head metres: `front` front-surface vertices, as many behind them, then
    the rim's copies), faces [F,3], uvs [V,2], follow [V] (0..1, how much a vertex turns with the
    head), texture RGBA [Th,2*Tw,4] (front | back, laid out by surface: shell_layout.py), texel_pixels
    (x, y) [Th,Tw]: where each front texel lies in the photo (pixel centres at +0.5), and the pose and
    segment used, and `sides` [2,Th,Tw,3] (with alpha, [2,Th,Tw,4], where a side hides the far ear's strip):
    the front as a view turned to her right / left sees it. `prob` [H,W] is the person probability (segmented
    here when omitted).
    """
    import cv2

    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise GeometryError(f"image must be RGB uint8 [H,W,3], got {image.dtype} {list(image.shape)}")
    lm = check_landmarks(landmarks_px, batch=False)
    code = expression.neutral() if code is None else np.asarray(code, np.float32)
    h, w = image.shape[:2]
    h0 = h
    prob = person_around_face(image, lm) if prob is None else np.asarray(prob, np.float32)
    if prob.shape != (h, w):
        raise GeometryError(f"segment must be [{h},{w}], got {list(prob.shape)}")
    mask = prob > 0.5
    if mask.sum() < 100:
        raise GeometryError("no person found in the photo to build hair and shoulders from")

    verts = head.reconstruct(code)
    pose = fit_pose(lm, verts[:478], float(w))
    rot = matrix_from_euler(*pose[:3])
    s = float(pose[5]) * w  # pixels per metre
    t = np.asarray(pose[3:5], np.float64) * w
    # Pixels missing down to a bust's usual cut are made up below the picture, ending in a rounded cut
    # as a sculpted bust does (the sides rise to the shoulders). It reaches past the head mesh's neck,
    # which hangs inside the shell: its end showed as a ragged notch between the chest and the socle.
    xyz = project(verts, pose, float(w))  # [V,3] px, z < 0 towards the camera
    neck_end = float(xyz[:, 1].max()) + NECK_COVER * s
    lowest = xyz[xyz[:, 1] > neck_end - 0.03 * s]
    cx = float(lm[L.CHIN, 0])
    neck_half = float(np.abs(lowest[:, 0] - cx).max()) + NECK_COVER * s if len(lowest) else 0.0
    cols = np.nonzero(mask[-1])[0]
    if mask[-1].mean() > 0.05:  # the picture cuts the body off: continue the chest down
        xl, xr = min(float(cols.min()), cx - 1), max(float(cols.max()), cx + 1)
        # Deep enough that the cut's curve still covers the neck's end: at depth d of the cut the chest
        # is sqrt(1 - d^2) of its width at the picture's edge.
        narrow = min(neck_half / min(cx - xl, xr - cx), 0.95)
        ext = int(round(min(t[1] + BUST_BOTTOM * s - h,
                            max(CHEST_CONTINUED * s, (neck_end - h) / np.sqrt(1 - narrow ** 2)))))
    else:
        ext = 0
    if ext > 0:
        # The cloth's colours across the cut, smoothed so buttons and folds do not run down as stripes.
        k = max(2, h // 20)
        band = fill_nearest(image[-k:], mask[-k:])  # the person's colours only
        row = np.median(band, axis=0).astype(np.uint8)[None]  # [1,W,3]
        row = cv2.GaussianBlur(row, (0, 0), sigmaX=max(1.0, 0.03 * s), sigmaY=0.1).astype(np.float32)
        # Starting from the picture's own last row, so no seam runs along the picture's edge.
        last = fill_nearest(image[-1:], mask[-1:]).astype(np.float32)
        # A detail cut by the edge (a button, a badge) stands out from the smoothed colours: it ends within
        # a few millimetres instead of running down the made-up chest as a streak.
        contrast = np.abs(last - row).max(-1)  # [1,W] levels
        reach = SEAM_BLEND * s * np.clip(1 - contrast / DETAIL_CONTRAST, 0.1, 1)  # [1,W] px
        f = smoothstep(np.arange(1, ext + 1)[:, None] / np.maximum(1.0, reach))[..., None]  # [ext,W,1]
        image = np.concatenate([image, ((1 - f) * last + f * row).round().astype(np.uint8)])
        depth = (np.arange(1, ext + 1) / (ext + 1))[:, None]  # [ext,1] 0..1 down the extension
        curve = np.sqrt(1 - depth ** 2)
        prob = np.concatenate([prob, np.repeat(prob[-1:], ext, 0) * _cut_coverage(curve[:, 0], cx, xl, xr, w)])
        h = image.shape[0]
    _, _, head_z = rasterize(xyz[:, :2], xyz[:, 2], head.faces, w, h, cull_backfaces=True)  # nearest head surface
    _, _, head_far = rasterize(xyz[:, :2], -xyz[:, 2], head.faces, w, h, cull_backfaces=False)
    on_head = np.isfinite(head_z)
    head_back = np.where(on_head, head_far / s, np.inf)  # metres: the far side of the head (model z)
    head_front = np.where(on_head, -head_z / s, -np.inf)  # metres towards the camera
    # The face, with room below the chin for the jaw to open: the head mesh's own region.
    oval = lm[list(T.named_loops()["oval"]), :2].astype(np.float32)
    # Only the jaw below the mouth moves down: the room is under that part of the oval, not beside the
    # ears, where it cut the earrings hanging under the lobes out of the shell.
    jaw = oval[oval[:, 1] > float(lm[[L.MOUTH_CORNER_L, L.MOUTH_CORNER_R], 1].mean())]
    oval = cv2.convexHull(np.concatenate([oval, jaw + [0, JAW_ROOM * s]]).astype(np.float32)).reshape(-1, 2)
    face = np.zeros((h, w), np.uint8)
    cv2.fillPoly(face, [np.round(oval).astype(np.int32)], 1)
    face = cv2.erode(face, np.ones((3, 3), np.uint8)).astype(bool)
    # Earrings the segment left out are the person's: else only its fringe showed, a pale smear.
    prob = np.where(earrings(image, prob, lm, s, face), 1.0, prob).astype(np.float32)
    mask = prob > 0.5

    # Inflation from the distance to the silhouette (metres), like a sphere's height over its rim.
    # The body goes on past the picture's bottom edge: at that edge its depth is a straight body's, not
    # the made-up chest's (else the picture's lower corners curve back, and a framed portrait's relief
    # rounds off at its bottom corners); below it, over SEAM_BLEND, the depth becomes the rounded cut's
    # own, so the cut has no flat wall down its sides (where the picture cut a shoulder off at its side).
    ys, xs = np.nonzero(prob > 0.2)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    face_px = max(float(np.ptp(lm[:, 0])), float(np.ptp(lm[:, 1])), 1.0)
    photo_box = (box[0], box[1], box[2], min(box[3], h0))  # the grid's fineness follows the photo, not the made-up chest
    step = _grid_step(face_px, photo_box)
    body = np.concatenate([mask[:h0], np.repeat(mask[h0 - 1:h0], h - h0, 0)]) if h > h0 else mask
    dist = _signed_distance(body, 2 * step, open_below=h > h0) / s
    if h > h0:
        own = _signed_distance(mask, 2 * step)[h0:] / s
        f = smoothstep(np.arange(1, h - h0 + 1) / max(1.0, SEAM_BLEND * s))[:, None]
        dist[h0:] = (1 - f) * dist[h0:] + f * own
    dist = np.clip(dist, -INFLATE_RADIUS, INFLATE_RADIUS)
    # Outside the outline the inflation goes on below the middle plane, mirrored: a grid cell across the
    # outline then has its front and back meet about where the outline is, not at its outer corner.
    # (They met a grid cell out, so at the outline, where the alpha ends, the front's and the back's
    # edges were centimetres apart: seen turned, the body's sides were two edges with the background
    # between, one tooth per grid row, and the faded rim lay stretched over the neck's side.)
    # Within a grid step of the outline the inflation is the chord to its height one step in: linear
    # across a cell, as the cell's triangles are, so they cross the middle plane at the outline itself.
    def height(d):
        return np.sqrt(np.maximum(2 * INFLATE_RADIUS * d - d ** 2, 0))

    near = min(step / s, INFLATE_RADIUS)
    reach = np.abs(dist)
    inflate = np.sign(dist) * np.where(reach < near, height(near) * reach / near, height(reach))
    mid = float((rot @ np.array([0.0, 0.0, SKULL_CENTRE_Z]))[2])  # camera depth of the skull centre
    front = mid + inflate
    # Hair, ears and neck lie over the head mesh (they are the photo's own pixels); over the face,
    # which animates, the shell has a hole (cut below), fading out towards it: no step, no wall.
    front = np.where(on_head, np.maximum(front, head_front + HAIR_GAP), front)
    back = mid - BACK_SQUASH * inflate
    back = np.where(on_head, np.minimum(back, head_back - HAIR_GAP), back)  # the hair covers the back of the skull

    # Grid over the segment's box; a cell is kept when all its corners are in the person.
    # Beside the head's outline (the ears, the hair at the temples) the shell starts at the head's side:
    # a grid cell spanning the outline otherwise dips from the skull to the inflated surface behind it.
    front = np.maximum(front, _beside_head(head_front, on_head, 1.5 * step) + HAIR_GAP)
    # Along the head's outline the photo's rows disagree by centimetres of depth (each row meets the
    # skull's grazing side at its own pixel): rows averaged up and down over a grid step, then kept over
    # the head. Else the ear and the side of the hair were drawn as ridges, one per row.
    sy = float(step)
    rows = cv2.GaussianBlur(front.astype(np.float32), (1, 2 * int(3 * sy) + 1), sigmaX=0, sigmaY=sy).astype(np.float64)
    outline = cv2.distanceTransform((~on_head).astype(np.uint8), cv2.DIST_L2, 5) \
        + cv2.distanceTransform(on_head.astype(np.uint8), cv2.DIST_L2, 5)  # pixels to the head's outline
    front = np.where(outline <= 3 * step, rows, front)
    front = np.where(on_head, np.maximum(front, head_front + HAIR_GAP), front)
    # The grid's columns and the texture's texels at even steps across the surface, not the photo.
    # (laid out and shaded as the person's surface: what lies below the middle plane, outside the outline,
    # takes no texels from the person, and its rim's normals do not turn away)
    surface = np.maximum(front, mid)
    # Beside the face the inflation stood centimetres in front of the head's side (it grows from the
    # person's outline, a centimetre or two from the head's): seen turned, the photo's cheek edge, ear and
    # glasses' temple there showed as a second cheek beside the face. There the shell follows the head.
    # (After the layout, which spans all rows: laid out again, every texel of the shell moved.)
    tucked, back = _tucked_beside_head(front, back, head_front, on_head, _beside_face(np.arange(h), lm, s), s)
    # Averaged over the rows as above: the head's grazing side, which it now follows, meets each row at
    # its own pixel.
    rows = cv2.GaussianBlur(tucked.astype(np.float32), (1, 2 * int(3 * sy) + 1), sigmaX=0, sigmaY=sy).astype(np.float64)
    tucked = np.where((outline <= 3 * step) & (tucked < front), rows, tucked)
    front = np.where(on_head, np.maximum(tucked, head_front + HAIR_GAP), tucked)
    layout = SurfaceLayout.of(surface, s, box, float(lm[L.NOSE_TIP, 0]))
    gl = layout.start + np.arange(0.0, layout.span + step, step)
    # Rows at the grid's step over the picture, twice as far apart over the made-up chest (plain colour).
    gy = np.arange(box[1], min(box[3], h0) + step, step)
    gy = np.concatenate([gy, np.arange(gy[-1] + 2 * step, box[3] + 2 * step, 2 * step)]).clip(0, h - 1)
    px = np.stack([layout.columns(gl, y) for y in gy]).clip(0, w - 1)  # [gh,gw] photo x of each grid point
    py = np.repeat(gy[:, None], len(gl), 1)
    gu = np.repeat(layout.u(gl)[None], len(gy), 0)
    ix, iy = np.round(px).astype(int), np.round(py).astype(int)
    # The grid reaches a cell beyond the segment: the outline is drawn by the texture's alpha, not by
    # the grid's steps.
    k = 2 * int(np.ceil(step)) + 1
    inside = cv2.dilate(mask.astype(np.uint8), np.ones((k, k), np.uint8))[iy, ix] > 0
    cell = inside[:-1, :-1] & inside[1:, :-1] & inside[:-1, 1:] & inside[1:, 1:]
    used = np.zeros_like(inside)
    used[:-1, :-1] |= cell
    used[1:, :-1] |= cell
    used[:-1, 1:] |= cell
    used[1:, 1:] |= cell
    ids = -np.ones(inside.shape, np.int64)
    ids[used] = np.arange(int(used.sum()))
    n = int(used.sum())
    a, b, c, d = ids[:-1, :-1][cell], ids[:-1, 1:][cell], ids[1:, :-1][cell], ids[1:, 1:][cell]
    # Counter-clockwise seen from the camera (+z towards it, image y down): a, c, b then b, c, d.
    front_faces = np.concatenate([np.stack([a, c, b], 1), np.stack([b, c, d], 1)])
    back_faces = front_faces[:, ::-1] + n
    cell_faces = front_faces  # the whole grid, face included: it lays out the texture
    edge = _boundary_edges(front_faces)
    hole = cv2.erode(face.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=2)[iy, ix] > 0
    over_face = hole[:-1, :-1] & hole[1:, :-1] & hole[:-1, 1:] & hole[1:, 1:]
    keep = ~over_face[cell]
    front_faces = np.concatenate([np.stack([a, c, b], 1)[keep], np.stack([b, c, d], 1)[keep]])
    # The rim's quads run each front edge backwards, so they face outwards like the front and back.
    side_faces = np.concatenate([np.stack([edge[:, 1], edge[:, 0], edge[:, 0] + n], 1),
                                 np.stack([edge[:, 1], edge[:, 0] + n, edge[:, 1] + n], 1)]) if len(edge) else \
        np.zeros((0, 3), np.int64)

    sel_x, sel_y = px[used], py[used]
    # Depths read where each vertex lies (pixel centres at + 0.5), not at the nearest pixel: on the skull's
    # side half a pixel is millimetres of depth, and the head showed through the hair beside the ear.
    at_x, at_y = (sel_x - 0.5).astype(np.float32)[None], (sel_y - 0.5).astype(np.float32)[None]
    fz, bz = (cv2.remap(d.astype(np.float32), at_x, at_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)[0]
              .astype(np.float64) for d in (front, back))
    # On the picture's edge (where the grid's columns stop) the body has thinned to nothing (see
    # `_signed_distance`), its front and back meet there; a pixel in, where the depths are read, they
    # were still ~1 cm apart, and the rim's quads stood there as a narrow cap. (Not over the head: a
    # picture cutting the hair off keeps the skull inside.)
    edge_px = (sel_x <= 0) | (sel_x >= w - 1) | (sel_y <= 0) | (sel_y >= h - 1)
    edge_px &= ~on_head[np.round(sel_y).astype(int).clip(0, h - 1), np.round(sel_x).astype(int).clip(0, w - 1)]
    fz[edge_px] = bz[edge_px] = (fz[edge_px] + bz[edge_px]) / 2
    # Beside the face, where the head's cheek or jaw ends in front of its wider skull or neck (its nearest
    # depth drops centimetres within a pixel), the grid spanned the drop as a wall the photo saw edge-on:
    # seen turned, a pale striped patch where her ear and the side of her face are, and, lifted clear of
    # the head in depth, flaps standing past her far cheek. The head mesh has its own side there, textured
    # from the turned pictures (`face_textures`): the shell leaves it to it. (From a single photo the
    # head's side is a fill, a smear worse than the photo's stretched pixels: Grace's at +35 deg.)
    if len(side_views):
        beside = _beside_face(sel_y, lm, s) > 0.5
        front_faces = front_faces[~_walls_over_head(sel_x, sel_y, fz, front_faces, on_head, beside,
                                                    float(lm[list(LOBE), 1].min()), s)]
    fz = _clear_of_head(sel_x, sel_y, fz, front_faces, head_front)
    # Where the front and back cross (outside the outline, see the inflation) the shell is closed by them:
    # no rim quad there (spanning centimetres between them, it stood over the hair's outline as a flap).
    if len(edge):
        apart = fz > bz
        side_faces = side_faces[np.tile(apart[edge[:, 0]] | apart[edge[:, 1]], 2)]
    # Nor a triangle wholly past the crossing: its texels are unseen (`_inside_closed`), but seen edge-on
    # a filtered texture still drew it as a hairline standing off the outline.
    crossed = fz <= bz
    front_faces = front_faces[~crossed[front_faces].all(1)]
    back_faces = back_faces[~crossed[back_faces - n].all(1)]
    cam_xy = np.stack([(sel_x - t[0]) / s, -(sel_y - t[1]) / s], 1)  # metres, model-axes camera frame
    cam = np.concatenate([np.c_[cam_xy, fz], np.c_[cam_xy, bz]])  # [2n,3]
    vertices = cam @ rot  # back to head axes (rot maps head -> camera)

    # Texture atlas: the photo over the box, laid out by surface (front) | the same with face and skin
    # painted over by hair (back).
    _, y0, _, y1 = box
    scale = min(SIDE_SUPERSAMPLE, TEXTURE_MAX / max(layout.span, y1 - y0))
    tw, th = max(8, int(round(layout.span * scale))), max(8, int(round((y1 - y0) * scale)))
    # Each texel reads the photo where the grid's triangles put it (the layout's own rows where none does):
    # the texture lines up with the mesh exactly, whatever the layout does between grid rows.
    mx, my = layout.texel_pixels(tw, th)
    grid_uv = np.c_[gu[used] * tw, (py[used] - y0) / max(y1 - y0, 1) * th]
    fid, bary, _ = rasterize(grid_uv, np.zeros(n), cell_faces, tw, th, cull_backfaces=False)
    hit = fid >= 0
    corners = cell_faces[fid[hit]]
    mx[hit] = np.einsum("pk,pk->p", bary[hit], px[used][corners])
    my[hit] = np.einsum("pk,pk->p", bary[hit], py[used][corners])

    def texels(photo_array, nearest=False):
        # Vertices sit at (x - t) / s: a vertex from pixel index x shows where the photo's continuous
        # coordinate is x, which is pixel index x - 0.5 (pixel centres at + 0.5).
        return sample(photo_array, mx - 0.5, my - 0.5, scale, nearest)

    # Background colours never bleed in at the soft edge, front or back (`rim_cleaned`). Done at the
    # photo's own pixels, before the texture is enlarged (which mixes wall into the rim).
    clean = rim_cleaned(image, prob)
    crop = texels(clean)
    alpha = texels(prob)
    skin = texels(cv2.dilate((face & on_head).astype(np.uint8), np.ones((9, 9), np.uint8)), nearest=True).astype(bool)
    known = (alpha > 0.5) & ~skin
    # Behind the head only what the photo shows above the brows (hair, a hat, a bald crown) is copied,
    # so the back of the head never repeats the face, ears or collar.
    head_zone = texels(cv2.dilate(on_head.astype(np.uint8), np.ones((15, 15), np.uint8)), nearest=True).astype(bool) \
        & (my < float(lm[L.CHIN, 1]))
    crown = known & (my < float(lm[L.FOREHEAD, 1]) - CROWN_ABOVE * s)  # above the forehead's skin
    back_rgb = fill_nearest(crop, known) if known.any() else crop
    if crown.any():
        # Towards the outline the back takes the front's own colours there (the ear's, the hair's, the jaw's
        # skin): seen turned, the back's last centimetre stands at the outline, and in the crown's colours
        # (Grace's navy hat) it drew a dark jagged line along her ear, her white hair and her jaw.
        person = alpha > 0.5
        rim = cv2.distanceTransform(person.astype(np.uint8), cv2.DIST_L2, 5) / (BACK_RIM * s * scale)
        own = smoothstep(1 - rim)[..., None]
        covered = fill_nearest(crop, crown)
        if not len(side_views):
            covered = _hair_below_crown(covered, crop, known & head_zone, skin, crown, my, lm, s, scale)
        behind = own * fill_nearest(crop, person) + (1 - own) * covered
        back_rgb = np.where(head_zone[..., None], behind, back_rgb).round().astype(np.uint8)
    # The back of the clothes: the front's cloth without its details (buttons, a tie, a name badge).
    # Not above the chin: there, beside the head, is hair (Grace's white hair by her ears), which a median
    # over 4 cm turned into her hat's and uniform's navy, a dark jagged line along her ear seen turned.
    cloth = cv2.medianBlur(back_rgb, min(255, 2 * int(0.04 * s * scale) + 1))
    above_chin = my < float(lm[L.CHIN, 1])
    back_rgb = np.where((head_zone | above_chin)[..., None], cv2.GaussianBlur(back_rgb, (0, 0), 4), cloth)
    front_rgb = crop
    # The shell's front fades out towards the face, so hair meets skin without an edge: over EDGE_FADE
    # of surface, measured in the layout (by surface), not in the photo, where beside the cheeks it
    # spanned centimetres of the head's side and left the ear and earring half transparent.
    out_of_face = (texels(face.astype(np.uint8), nearest=True) == 0).astype(np.uint8)
    fade_c = np.clip(cv2.distanceTransform(out_of_face, cv2.DIST_L2, 5) / (EDGE_FADE * s * scale), 0, 1)
    # Turned views never colour the face or the band where the shell fades into it: their expression
    # is not the photo's (a second nose and mouth showed through the fade); nor below the ear lobes.
    turning = _follow(my, lm, s) * _above_lobes(my, lm) * (fade_c > 0.999)
    # Two fronts: as the photo's own camera sees the shell (its pixels are right from there, however
    # steeply the surface turns away), and as a turned view sees it, with what was seen only edge-on
    # refilled (`shell_colours`). The room shows the second on the side a view sees (BustModel.shell_sides).
    # (A turned view looks where the shell lies, tucked beside the face; the photo's own camera sees each
    # texel along its ray whatever its depth, so the front as photographed is judged as before the tuck.)
    colour_args = ((mx, my), np.maximum(front, mid), rot, t, s, turning, head, side_views, calibration,
                   alpha > 0.2, side_probs)
    turned_rgb, turned_trust = shell_colours(front_rgb, *colour_args, hair=crown, skin=skin,
                                             normals=texel_normals(cam[:n], cell_faces, fid, bary), with_trust=True)
    front_rgb = shell_colours(front_rgb, colour_args[0], surface, *colour_args[2:], as_photographed=True)
    side_x = np.zeros((th, tw))
    side_x[hit] = np.einsum("pk,pk->p", bary[hit], vertices[cell_faces[fid[hit]], 0])  # head axes
    left = smoothstep(0.5 + side_x / SIDE_SPLIT)[..., None]  # the subject's left (+x)
    over_head = None
    if not len(side_views):
        # A single photo saw the side of the head beside the face edge-on, and the shell tucked over it showed
        # its stretched ear and hair refilled, a smooth orange patch over the head's side, which is her skin
        # continued round: what it did not see squarely there is that side as the head shows it
        # (`over_head_sides`). The ears stand out from the head: they keep the shell's colours.
        at = np.zeros((th, tw, 3))
        at[hit] = np.einsum("pk,pkc->pc", bary[hit], vertices[cell_faces[fid[hit]]])
        lobes = verts[head.landmark_vertices[list(LOBE)]]
        ears = np.any([_in_ear_box(at, lobe, 1 if lobe[0] > 0 else -1, (*EAR_BOX[:3], 0.0, EAR_BOX[4])) for lobe in lobes], axis=0)
        boxes = [_in_ear_box(at, lobe, 1 if lobe[0] > 0 else -1) & hit for lobe in lobes]
        ears = cv2.GaussianBlur(ears.astype(np.float32), (0, 0), max(1.0, SHELL_HANDOVER * s * scale))
        tucked = _beside_face(my, lm, s) * _tucked_reach(mx, my, on_head, s) * (1 - turned_trust) * (1 - ears)
        over_head = (np.stack([1 - left[..., 0], left[..., 0]]) * tucked[None],  # [2,th,tw]
                     _head_uv_beneath(xyz, head, w, h, mx, my))
    sides = np.stack([front_rgb + (1 - left) * (turned_rgb - front_rgb.astype(np.float64)),
                      front_rgb + left * (turned_rgb - front_rgb.astype(np.float64))]).round().clip(0, 255).astype(np.uint8)
    if over_head is not None:
        # Seen turned, a single photo's ears are its few pixels at the ear's rim stretched, greyed and blued by the
        # wall behind them (pale pink-grey streaks and shards at the outline): they take her skin's hue and light.
        lit_skin = skin & hit & (front_rgb @ LUMA_F32 > EAR_LUMA)
        for k, ear_box in enumerate(sorted(boxes, key=lambda b: float((at[..., 0] * b).sum())) if lit_skin.any() else ()):
            sides[k] = ear_in_skin_hue(sides[k], ear_box, np.median(front_rgb[lit_skin].astype(np.float32), axis=0))
    a = np.clip(alpha * 1.6 - 0.3, 0, 1)  # confident inside, fading at the rim
    # Below the picture the outline is the made-up chest's own rounded cut, where the front meets the back
    # (not a soft photo's edge): opaque out to it. Its one-pixel fade lay on the body's steep rim, a
    # centimetre of surface, and seen turned it was a grey dashed line down the chest's side, the
    # background showing through inside the outline.
    a = np.where(my >= h0, alpha > 0.02, a)
    # Past the 0.5 outline the front and back have crossed (see the inflation), each sloping away behind
    # the other: the soft rim lying there was stretched, seen turned, into streaks standing off the
    # outline (Grace's hat top and ear, where her segment's rim is ~10 px wide). It is not shown there.
    # (Moving the crossing out to where the alpha ends instead moved the outline's surface by the limb's
    # slope times the rim's width, ~1 cm: seen turned, the clip's far jaw and ear stood wider.)
    a = a * _inside_closed(fid, bary, cell_faces, fz - bz)
    a_front = (a * fade_c * 255).astype(np.uint8)
    # Where the picture's side edge cuts the body off, the shell is open between its front and back (the
    # body's full depth reaches the edge): seen turned, the back's half-transparent edge rows showed
    # through as a striped cut face. Within a grid cell of that edge the back is opaque.
    at_cut = (mx < step + 0.5) | (mx > w - step - 0.5)
    a_back = (np.where(at_cut, 1.0, a) * 255).astype(np.uint8)
    texture = np.concatenate([np.dstack([front_rgb, a_front]), np.dstack([back_rgb, a_back])], axis=1)

    u = gu[used].clip(0, 1)
    v = 1 - ((sel_y - y0) / max(y1 - y0, 1)).clip(0, 1)
    uvs = np.concatenate([np.c_[0.5 * u, v], np.c_[0.5 + 0.5 * u, v]]).astype(np.float32)

    follow_px = _follow(sel_y, lm, s)
    follow = np.concatenate([follow_px, follow_px]).astype(np.float32)

    # The rim's quads get vertices of their own: spanning a front and a back vertex, they took the
    # front's and the back's uvs and squeezed the whole texture atlas across their width (stripes down
    # the sides of the chest). Their copies carry the front rim's uv at both ends: the edge's colour
    # runs back over the side.
    rim = np.unique(edge) if len(edge) else np.zeros(0, np.int64)
    k = len(rim)
    remap = np.full(2 * n, -1, np.int64)
    remap[rim], remap[rim + n] = 2 * n + np.arange(k), 2 * n + k + np.arange(k)
    side_faces = remap[side_faces]
    vertices = np.concatenate([vertices, vertices[rim], vertices[rim + n]])
    uvs = np.concatenate([uvs, uvs[rim], uvs[rim]])
    follow = np.concatenate([follow, follow[rim], follow[rim + n]])

    faces = np.concatenate([front_faces, back_faces, side_faces]).astype(np.int32)
    # A photo turned from the head's front sees its far ear edge-on, a thin strip on the shell: seen turned
    # to that side, no ear. Ears are near mirror images: the near ear's shell (and its earring), mirrored,
    # is put over the far one, on the near ear's texels as photographed. The far ear's own strip stays
    # (without it the background showed through where the two ears' outlines differ).
    far = _far_ear(rot)
    if far and len(side_views):
        # the near ear's box: the far ear's, mirrored (both then hold the same part of an ear)
        lobe = verts[head.landmark_vertices[LOBE[0 if far < 0 else 1]]] * [-1, 1, 1]
        near = _in_ear_box(vertices[front_faces], lobe, -far).all(1)
        src = np.unique(front_faces[near])
        index = np.full(len(vertices), -1, np.int64)
        index[src] = len(vertices) + np.arange(len(src))
        faces = np.concatenate([faces, index[front_faces[near]][:, ::-1]]).astype(np.int32)  # mirrored: wound back
        vertices = np.concatenate([vertices, _mirrored(vertices[src], verts, head.faces)])
        # The near ear was lit as its side was: the clip's is lighter and more orange than the skin of her far
        # side. Its copy gets texels of its own, brought to the far side's light: each channel scaled so the
        # ear's mean (its box's texels, less the dark hair) is the far cheek's, in front of the far ear.
        ear_uv, ear = _ear_texels(texture, sides, (mx, my), uvs[src], index[front_faces[near]] - len(uvs), hit)
        uvs = np.concatenate([uvs, ear_uv])
        at = np.zeros((th, tw, 3))
        at[hit] = np.einsum("pk,pkc->pc", bary[hit], vertices[cell_faces[fid[hit]]])
        seen = alpha > 0.5
        _far_lit(texture, sides, ear, [seen & (front_rgb @ LUMA_F32 > EAR_LUMA) & _in_ear_box(at, lobe, -far),
                                       seen & skin & _in_cheek(at, lobe, far)])
        follow = np.concatenate([follow, follow[src]])
        # Seen turned to the far side, the far ear's own strip stood out round the mirrored ear (its pink helix
        # top above it, its earring's streaks below): that side's texture hides it (alpha), so only the
        # mirrored ear shows there. From the photo's own direction the strip stays (its outline is right there).
        # (the ear's texels: lighter than hair as photographed or as that side's pictures saw them)
        light = np.maximum(front_rgb @ LUMA_F32, sides[(far + 1) // 2] @ LUMA_F32) > EAR_LUMA
        strip = hit & _in_ear_box(at, lobe, far, STRIP_BOX) & light
        # Where neither the head nor the mirrored ear shows behind a strip texel seen turned, hiding it opened a
        # hole at the ear's top outline (the room's backdrop showed through, blue-grey): there it is hair.
        behind = _covered(at, far, (vertices, faces[-int(near.sum()):], (uvs, texture[..., 3])),
                          (verts, head.faces, None))
        sides = _hiding(sides, texture[:, :tw, 3], strip & behind, far)
        if crown.any():
            hair = cv2.GaussianBlur(fill_nearest(crop, crown), (0, 0), 4)
            # Its back (laid out as the front) took the photo's ear colours towards the outline, where seen
            # turned it stands beside the front: behind an ear is hair.
            texture[:, tw:, :3][strip] = hair[strip]
            # Its texels darker than EAR_LUMA, kept (hidden, the head's skin showed through the hair over the
            # ear), were her shaded helix's dark reddish brown over the mirrored ear: hair too.
            shown = (strip & ~behind) | (hit & _in_ear_box(at, lobe, far) & ~light)
            sides[(far + 1) // 2][..., :3][shown] = hair[shown]
    return dict(vertices=vertices.astype(np.float32), faces=faces, uvs=uvs, follow=follow, texture=texture,
                pose=pose.astype(np.float32), box=box, prob=prob, front=n, texel_pixels=(mx, my), sides=sides,
                over_head=over_head)


def rim_cleaned(photo: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """The photo [H,W,3] with the person's rim (`prob` [H,W] person probability) free of the background.

    The segment's edge holds a sliver of the wall or flag beside the neck and hair, and pixels that are
    a blend of the two: a rim pixel that is the background right behind it, or a blend of that and the
    person's colour just inside (less than PERSON_SHARE of the person, within MIX_RESIDUAL of the
    blend), takes its colour from further in. The shell's surface curves away at its outline, so a
    turned view sees those few pixels stretched: the clip's red flag stripe beside her neck was a row
    of pink dashes along her jaw. A rim pixel with the person's brightness and a hue part way to the wall's
    (`hue_blend`) keeps its brightness and takes the person's hue. A rim pixel unlike both (an earring at the
    edge) stays."""
    import cv2

    inner = prob > 0.8
    if not inner.any():
        return photo
    k = 2 * RIM_PX + 1
    sure = cv2.erode(inner.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    # The person's own colour is read further in than the rim: a soft photo blends the wall a few pixels
    # into what the segment is sure of.
    k = 2 * (RIM_PX + BLEND_PX) + 1
    deep = cv2.erode(inner.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    x = photo.astype(np.float32)
    wall = fill_nearest(photo, prob < 0.2).astype(np.float32) if (prob < 0.2).any() else x
    person = fill_nearest(photo, deep if deep.any() else sure).astype(np.float32)
    d = person - wall
    share = np.clip(((x - wall) * d).sum(-1) / np.maximum((d * d).sum(-1), 1.0), 0, 1)  # of the person in the blend
    residual = np.linalg.norm(x - wall - share[..., None] * d, axis=-1)
    # (the person's colour a few pixels in is not quite the rim's: the farther apart person and wall, the
    # more off the blend's line a blend may lie)
    blend = (share < PERSON_SHARE) & (residual < np.maximum(MIX_RESIDUAL, MIX_SLACK * np.linalg.norm(d, axis=-1)))
    kept = deep | (inner & ~blend)
    # A video's colour has half its resolution: a rim pixel may have the person's brightness and the wall's
    # hue mixed in (beside the clip's neck, pixels as bright as her skin and as red as the flag behind her,
    # 43-52 levels off any RGB blend). Judged by hue alone, against the person's own colour further in,
    # such a pixel keeps its brightness (the outline's shading) and takes the person's hue.
    bled = kept & ~deep & hue_blend(x, person, wall)
    shown = np.where(bled[..., None], person + (x - person) @ LUMA_F32[:, None], x).clip(0, 255).astype(np.uint8)
    return fill_nearest(shown, kept)


def hue_blend(x: np.ndarray, person: np.ndarray, wall: np.ndarray) -> np.ndarray:
    """[H,W] bool: pixels `x` [H,W,3] whose hue (RGB less grey at their luma) lies part way from the
    person's (`person` [H,W,3], read further in) to the wall's, and on that line, where the two hues are
    told apart by HUE_APART levels."""
    def hue(c):
        return c - (c @ LUMA_F32)[..., None]

    d = hue(person) - hue(wall)
    apart = np.linalg.norm(d, axis=-1)
    share = ((hue(x) - hue(wall)) * d).sum(-1) / np.maximum(apart ** 2, 1.0)
    residual = np.linalg.norm(hue(x) - hue(wall) - share[..., None] * d, axis=-1)
    return (apart > HUE_APART) & (share < PERSON_SHARE) & (residual < MIX_SLACK * apart)


def _inside_closed(fid: np.ndarray, bary: np.ndarray, faces: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """[th,tw] 1 for texels where the shell's front lies in front of its back (`gap` [n] metres, front
    minus back, at the grid's vertices; `fid`, `bary` the texels' grid triangle `faces` and weights),
    fading to 0 over CROSS_FADE where it has passed behind it; 1 off the grid."""
    out = np.ones(fid.shape, np.float64)
    hit = fid >= 0
    g = np.einsum("pk,pk->p", bary[hit], gap[faces[fid[hit]]])
    out[hit] = np.clip(1 + g / CROSS_FADE, 0, 1)
    return out


def _beside_head(head_front: np.ndarray, on_head: np.ndarray, reach: float) -> np.ndarray:
    """[H,W] the head's nearest depth (metres towards the camera) carried out to `reach` pixels beyond
    its outline; -inf further out."""
    import cv2

    if not on_head.any():
        return np.full(head_front.shape, -np.inf)
    dist, labels = cv2.distanceTransformWithLabels((~on_head).astype(np.uint8), cv2.DIST_L2, 5,
                                                   labelType=cv2.DIST_LABEL_PIXEL)
    lookup = np.full(int(labels.max()) + 1, -np.inf)
    lookup[labels[on_head]] = head_front[on_head]
    return np.where(dist <= reach, lookup[labels], -np.inf)


def _beside_face(y: np.ndarray, lm: np.ndarray, s: float) -> np.ndarray:
    """0..1 for photo rows `y`: 1 from the brows down to TUCK_FADE above the chin (the face's height,
    where what lies beside the head is its side: temples, cheeks, ears), fading out over TUCK_FADE above
    the brows and towards the chin (below it the neck meets the shoulders, which stay as they were)."""
    y = np.asarray(y, np.float64)
    top = float(lm[list(L.BROW_L + L.BROW_R), 1].min())
    chin = float(lm[L.CHIN, 1])
    return smoothstep((y - top) / (TUCK_FADE * s) + 1) * smoothstep((chin - y) / (TUCK_FADE * s))


def _tucked_beside_head(front: np.ndarray, back: np.ndarray, head_front: np.ndarray, on_head: np.ndarray,
                        rows: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray]:
    """The shell's (front, back) depths [H,W] (metres towards the camera) with the front, in the `rows`
    weighted 0..1 [H], no further forward than the head's surface (HAIR_GAP over it) and, beyond the
    head's outline, than the head's side going on backwards at TUCK_SLOPE, out to TUCK_REACH from it.
    The back moves back with the front where the two are closer than TUCK_THICKNESS (at the person's
    outline, where they meet: the outline and its alpha stay as they were), else it stays behind it."""
    import cv2

    if not on_head.any():
        return front, back
    out = cv2.distanceTransform((~on_head).astype(np.uint8), cv2.DIST_L2, 5) / s  # metres beyond the head
    side = _beside_head(head_front, on_head, np.inf)  # the nearest head pixel's depth
    target = np.where(on_head, head_front, side - TUCK_SLOPE * out) + HAIR_GAP
    near = smoothstep(1 - (out - TUCK_REACH) / TUCK_FADE)
    excess = (rows[:, None] * near) * np.maximum(front - target, 0.0)
    tucked = front - excess
    return tucked, np.minimum(back, tucked - np.minimum(front - back, TUCK_THICKNESS))


def _tucked_reach(mx: np.ndarray, my: np.ndarray, on_head: np.ndarray, s: float) -> np.ndarray:
    """[th,tw] 0..1 for the shell's texels at photo pixels (mx, my): 1 over the head (`on_head` [H,W]) and out to
    TUCK_REACH beyond its outline, fading over TUCK_FADE (where `_tucked_beside_head` lays the shell on the
    head's side going on backwards)."""
    import cv2

    out = cv2.distanceTransform((~on_head).astype(np.uint8), cv2.DIST_L2, 5) / s  # metres beyond the head
    near = smoothstep(1 - (out - TUCK_REACH) / TUCK_FADE).astype(np.float32)
    return sample(near, mx - 0.5, my - 0.5, 1.0)


def _head_uv_beneath(xyz: np.ndarray, head, w: int, h: int, mx: np.ndarray, my: np.ndarray) -> np.ndarray:
    """[th,tw,2] the head's uv under each shell texel at photo pixels (mx, my): of the head's nearest surface
    there (`xyz` [V,3]: its vertices in the photo's pixels, z < 0 towards the camera), or beyond its outline
    of the outline's nearest pixel (the head's side the shell goes on from)."""
    import cv2

    fid, bary, _ = rasterize(xyz[:, :2], xyz[:, 2], head.faces, w, h, cull_backfaces=True)
    on = fid >= 0
    uv = np.zeros((h, w, 2), np.float32)
    uv[on] = np.einsum("pk,pkc->pc", bary[on], np.asarray(head.uvs, np.float32)[head.faces[fid[on]]])
    if on.any() and not on.all():
        _, labels = cv2.distanceTransformWithLabels((~on).astype(np.uint8), cv2.DIST_L2, 5,
                                                    labelType=cv2.DIST_LABEL_PIXEL)
        lookup = np.zeros((int(labels.max()) + 1, 2), np.float32)
        lookup[labels[on]] = uv[on]
        uv = lookup[labels]
    # nearest: a bilinear read across a uv seam is a texel of neither side
    return sample(uv, mx - 0.5, my - 0.5, 1.0, nearest=True)


def _hair_below_crown(covered: np.ndarray, crop: np.ndarray, beside: np.ndarray, skin: np.ndarray, crown: np.ndarray,
                      my: np.ndarray, lm: np.ndarray, s: float, scale: float) -> np.ndarray:
    """The back of the head's colours `covered` [th,tw,3] (the crown's, its nearest) with, below the crown's rows,
    the hair a single photo shows beside the head there (`beside` [th,tw]: texels in the person, off the face, by
    the head) where it is grey or white (HAIR_BELOW_GREY; not skin-coloured: the ears): Grace's grey hair under her
    navy hat. Seen turned, the back behind her ears was the hat's navy down to the collar, like long dark hair.
    Unchanged where the photo shows no such hair (HAIR_BELOW_TEXELS)."""
    import cv2

    from .side_skin import skin_like

    top = float(lm[L.FOREHEAD, 1]) - CROWN_ABOVE * s  # the crown's lowest row (photo pixels)
    rows = (my > top) & (my < float(lm[list(LOBE), 1].max()))
    c = crop.astype(np.float32)
    lum = c @ LUMA_F32
    ref = float(np.median(lum[skin])) if skin.any() else 128.0
    grey = (c.max(-1) - c.min(-1) < HAIR_BELOW_GREY * lum) & (lum > ref / 2)
    hair = beside & rows & ~skin & grey & ~skin_like(crop, skin)
    if hair.sum() < HAIR_BELOW_TEXELS * scale * scale:
        return covered
    sigma = max(1.0, HAIR_BELOW_BLUR * s * scale)
    w = cv2.GaussianBlur(hair.astype(np.float32), (0, 0), sigma)
    colour = cv2.GaussianBlur(fill_nearest(crop, hair).astype(np.float32) * hair[..., None], (0, 0), sigma)
    colour = np.where(w[..., None] > 1e-3, colour / np.maximum(w, 1e-6)[..., None], np.median(c[hair], axis=0))
    # Strands: fine noise drawn out downwards (the texture's rows are the photo's), fixed by a seed; and the hair
    # lies in the shade of the ear and the crown above it.
    noise = np.random.default_rng(HAIR_SEED).standard_normal(my.shape).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), sigmaX=HAIR_STRAND[0] * s * scale, sigmaY=HAIR_STRAND[1] * s * scale)
    noise /= max(float(noise.std()), 1e-6)
    colour = colour * (HAIR_BELOW_SHADE * (1 + HAIR_STRAND[2] * noise))[..., None]
    below = smoothstep((my - top) / (HAIR_BELOW_FADE * s))[..., None]
    return below * colour + (1 - below) * covered.astype(np.float32)


def ear_in_skin_hue(side: np.ndarray, box: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """The shell side `side` [th,tw,3] uint8 with the ear's texels (`box` [th,tw] bool, those lighter than
    EAR_LUMA: hair stays) in the hue of `skin` [3] (RGB), as far as their own hue (RGB less grey) lies from it
    (EAR_HUE: her ear's own warmer shades stay), and no lighter than EAR_LIGHT times the skin's luma (above
    it the light is compressed: the pale streaks and shards of the ear's stretched rim)."""
    rgb = side.astype(np.float32)
    lum = rgb @ LUMA_F32
    hue = rgb - lum[..., None]
    ref = float(skin @ LUMA_F32)
    want = skin.astype(np.float32) - ref
    off = np.linalg.norm(hue - want, axis=-1)
    ear = box * smoothstep((lum - EAR_LUMA) / (0.5 * EAR_LUMA))
    t = ear * smoothstep((off - EAR_HUE[0]) / (EAR_HUE[1] - EAR_HUE[0]))
    top = EAR_LIGHT * ref
    light = np.where(lum > top, top + 0.25 * (lum - top), lum)
    light = lum + ear * (light - lum)
    out = (hue + t[..., None] * (want - hue)) * (light / np.maximum(lum, 1.0))[..., None] + light[..., None]
    return out.round().clip(0, 255).astype(np.uint8)


def over_head_sides(sides: np.ndarray, share: np.ndarray, head_uv: np.ndarray, face_sides: np.ndarray) -> np.ndarray:
    """The shell's `sides` [2,th,tw,3 or 4] with each side's colours mixed, by `share` [2,th,tw] 0..1, towards the
    head's side texture of that side (`face_sides` [2,S,S,3], read at `head_uv` [th,tw,2]): a single photo saw
    the side of the head beside the face edge-on, and the shell tucked over it showed its stretched ear and
    hair refilled as a smooth orange patch, hiding the head's side, which is her skin continued round."""
    import cv2

    size = face_sides.shape[1]
    ux = (head_uv[..., 0] * size - 0.5).astype(np.float32)
    uy = ((1 - head_uv[..., 1]) * size - 0.5).astype(np.float32)
    out = sides.copy()
    for k in range(2):
        head = cv2.remap(face_sides[k], ux, uy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        t = share[k][..., None]
        out[k, ..., :3] = (t * head + (1 - t) * sides[k, ..., :3]).round().clip(0, 255).astype(np.uint8)
    return out


def _walls_over_head(x: np.ndarray, y: np.ndarray, depth: np.ndarray, faces: np.ndarray, on_head: np.ndarray,
                     where: np.ndarray, lobes: float, s: float) -> np.ndarray:
    """[F] True for the triangles of `faces` (corners at photo pixels x, y [n], `depth` [n] metres towards
    the camera; s: pixels per metre) that the photo saw edge-on (normal . view below SHELL_SEEN_NZ's lower
    end: its pixels there are stretched, see `shell_colours`), where `where` [n] is set at every corner,
    with every corner over the head (`on_head` [H,W]) or, below the photo row `lobes`, two: there the
    head's own surface is the side the photo did not see. (Above the lobes a triangle with a corner
    beyond the head is the edge of the ear or the hair standing out from it: without it the background
    showed through at the temple.)"""
    h, w = on_head.shape
    p = np.c_[x / s, -y / s, depth]
    n = np.cross(p[faces[:, 1]] - p[faces[:, 0]], p[faces[:, 2]] - p[faces[:, 0]])
    facing = np.abs(n[:, 2]) / np.maximum(np.linalg.norm(n, axis=1), 1e-12)
    on = on_head[np.round(y - 0.5).astype(int).clip(0, h - 1), np.round(x - 0.5).astype(int).clip(0, w - 1)]
    need = np.where(y[faces].mean(1) > lobes, 2, 3)
    return (facing < SHELL_SEEN_NZ[0]) & where[faces].all(1) & (on[faces].sum(1) >= need)


def _far_ear(rot: np.ndarray) -> int:
    """+1 when the photo's camera (its rotation `rot`, head -> camera) stands more than EAR_TURN round to
    the head's right (its direction's x in head axes negative): it sees the right ear, the left one (+x)
    edge-on; -1 the other way round; 0 within EAR_TURN of the head's front."""
    towards = float(rot[2, 0])  # the camera's direction's x in head axes: + on the head's left
    if abs(towards) < np.sin(np.radians(EAR_TURN)):
        return 0
    return -1 if towards > 0 else 1


def _in_ear_box(points: np.ndarray, lobe: np.ndarray, side: int, box=EAR_BOX) -> np.ndarray:
    """[...] True for `points` [...,3] (head axes) within `box` (EAR_BOX) of the ear whose lobe landmark is
    `lobe` [3], on the head's `side` (+1 its left, -1 its right): the ear, its lobe and earring, the hair
    just behind it."""
    below, above, behind, ahead, inwards = box
    x, y, z = points[..., 0] * side, points[..., 1], points[..., 2]
    return ((x > abs(float(lobe[0])) - inwards) & (y > lobe[1] - below) & (y < lobe[1] + above)
            & (z > lobe[2] - behind) & (z < lobe[2] + ahead))


def _ear_texels(texture: np.ndarray, sides: np.ndarray, texel_pixels, uv: np.ndarray, tris: np.ndarray,
                covered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(uvs [k,2], texels [Th,Tw] bool): the mirrored ear's own uvs and texels. `uv` [k,2] are the near
    ear's, `tris` [m,3] its triangles (indices into `uv`); their texels are copied, in place, in the
    shell's `texture` [Th,2*Tw,4] front, its `sides` [2,Th,Tw,3] and its texel pixels (mx, my), to texels no
    grid cell uses (`covered` [Th,Tw]: those one does). `uv` and no texels where there is no room."""
    import cv2

    th, tw = covered.shape
    px = np.c_[uv[:, 0] * 2 * tw, (1 - uv[:, 1]) * th]
    ear = np.zeros((th, tw), np.uint8)
    for t in tris:
        cv2.fillConvexPoly(ear, np.round(px[t] * 16).astype(np.int32), 1, shift=4)
    ear = cv2.dilate(ear, np.ones((7, 7), np.uint8)) > 0  # a filtered, mipmapped texture reads a few texels round
    none = (uv, np.zeros((th, tw), bool))
    if not ear.any():
        return none
    ys, xs = np.nonzero(ear)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    shape = ear[y0:y1, x0:x1]
    used = cv2.dilate(covered.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(np.float32)
    # for each top-left corner the footprint may be moved to, the used texels under it
    overlap = cv2.filter2D(used, -1, shape.astype(np.float32), anchor=(0, 0),
                           borderType=cv2.BORDER_CONSTANT)[:th - (y1 - y0) + 1, :tw - (x1 - x0) + 1]
    free = np.argwhere(overlap < 0.5)
    if not len(free):
        return none
    by, bx = free[0]
    dst = (slice(by, by + y1 - y0), slice(bx, bx + x1 - x0))
    for a in (texture[:, :tw], *sides, *texel_pixels):
        a[dst] = np.where(shape.reshape(shape.shape + (1,) * (a.ndim - 2)), a[y0:y1, x0:x1], a[dst])
    texels = np.zeros((th, tw), bool)
    texels[dst] = shape
    return (uv + [(bx - x0) / (2 * tw), -(by - y0) / th]).astype(uv.dtype), texels


def _hiding(sides: np.ndarray, alpha: np.ndarray, hidden: np.ndarray, side: int) -> np.ndarray:
    """The shell's `sides` [2,Th,Tw,3] with an alpha channel each ([2,Th,Tw,4]): the front's `alpha` [Th,Tw],
    but 0 at the `hidden` [Th,Tw] texels on the side a view sees turned to the head's `side` (+1 its left)."""
    shown = np.repeat(alpha[None], 2, 0)
    shown[(side + 1) // 2][hidden] = 0
    return np.concatenate([sides, shown[..., None]], -1)


def _covered(points: np.ndarray, side: int, *meshes, yaws=STRIP_YAWS, res: float = 0.001) -> np.ndarray:
    """[...] True for `points` [...,3] (head axes) that, seen from each of `yaws` (degrees round to the head's
    `side`, +1 its left), lie over one of `meshes` (vertices [V,3] in head axes, faces [F,3] wound outwards, and
    None or, for a textured one, its uvs [V,2] and texture alpha [H,W]: only where that is over half opaque),
    in front of it or behind it, at least 2 `res` metres inside its outline. Faces turned away from a view are not drawn there."""
    import cv2

    out = np.ones(points.shape[:-1], bool)
    for yaw in yaws:
        a = np.radians(yaw)
        across = np.array([np.cos(a), 0.0, -side * np.sin(a)])  # the view's right (head axes: y up, z ahead)
        flat = [np.c_[v @ across, -v[:, 1]] for v, *_ in meshes]  # its image, rows down
        lo = np.min([p.min(0) for p in flat], axis=0) - 2 * res
        size = ((np.max([p.max(0) for p in flat], axis=0) - lo) / res).astype(int) + 4
        seen = np.zeros((size[1], size[0]), bool)
        for p, (_, f, textured) in zip(flat, meshes):
            fid, bary, _ = rasterize((p - lo) / res, np.zeros(len(p)), f, int(size[0]), int(size[1]))
            hit = fid >= 0
            if textured is not None:
                uvs, alpha = textured
                uv = np.einsum("pk,pkc->pc", bary[hit], uvs[f[fid[hit]]])
                ah, aw = alpha.shape
                hit[hit] = alpha[((1 - uv[:, 1]) * ah).astype(int).clip(0, ah - 1),
                                 (uv[:, 0] * aw).astype(int).clip(0, aw - 1)] > 127
            seen |= hit
        seen = cv2.erode(seen.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0  # the room's view is in perspective
        at = np.stack([points @ across, -points[..., 1]], -1)
        ij = np.floor((at - lo) / res).astype(int)
        inside = (ij[..., 0] >= 0) & (ij[..., 0] < size[0]) & (ij[..., 1] >= 0) & (ij[..., 1] < size[1])
        out &= inside & seen[ij[..., 1].clip(0, size[1] - 1), ij[..., 0].clip(0, size[0] - 1)]
    return out


def _in_cheek(points: np.ndarray, lobe: np.ndarray, side: int) -> np.ndarray:
    """[...] True for `points` [...,3] (head axes) on the cheek in front of the ear whose lobe landmark is
    `lobe` [3] (mirrored or not), on the head's `side` (+1 its left): from EAR_BOX's front CHEEK_REACH on,
    up to the cheekbone, from CHEEK_REACH inside the lobe outwards."""
    ahead = EAR_BOX[3]
    x, y, z = points[..., 0] * side, points[..., 1], points[..., 2]
    return ((x > abs(float(lobe[0])) - CHEEK_REACH) & (y > lobe[1]) & (y < lobe[1] + CHEEK_REACH)
            & (z > lobe[2] + ahead) & (z < lobe[2] + ahead + CHEEK_REACH))


def _far_lit(texture: np.ndarray, sides: np.ndarray, texels: np.ndarray, masks) -> None:
    """The shell's `texels` [Th,Tw] (front of `texture` [Th,2*Tw,4], and `sides` [2,Th,Tw,3]) scaled, in
    place, per channel, so the front's mean over `masks` [0] ([Th,Tw]: the near ear) becomes its mean over
    `masks` [1] (the far side's skin). Unchanged where either has fewer than EAR_TEXELS."""
    tw = texels.shape[1]
    if not texels.any() or min(int(m.sum()) for m in masks) < EAR_TEXELS:
        return
    near, far = (texture[:, :tw, :3][m].astype(np.float64).mean(0) for m in masks)
    gain = np.clip(far / np.maximum(near, 1.0), *EAR_GAIN)
    for a in (texture[:, :tw, :3], *sides):
        a[texels] = (a[texels] * gain).round().clip(0, 255).astype(np.uint8)


def _mirrored(points: np.ndarray, verts: np.ndarray, faces: np.ndarray, res: float = 0.001) -> np.ndarray:
    """`points` [k,3] (head axes) mirrored through the head's middle plane (x = 0), each as far outside
    the head's other side as it lay outside its own: the fitted head is not quite symmetric, and a plain
    mirror image of the ear lay inside the head's side, hidden."""
    import cv2

    lo = verts[:, 1:].min(0)
    size = np.ceil((verts[:, 1:].max(0) - lo) / res).astype(int) + 2
    grid = np.c_[(verts[:, 2] - lo[1]) / res + 1, (verts[:, 1] - lo[0]) / res + 1]  # (z, y) pixels

    def extent(side: float) -> np.ndarray:  # [h,w] the head's outermost x on a side, nearest where it has none
        _, _, d = rasterize(grid, -side * verts[:, 0], faces, int(size[1]), int(size[0]), cull_backfaces=False)
        known = np.isfinite(d)
        _, labels = cv2.distanceTransformWithLabels((~known).astype(np.uint8), cv2.DIST_L2, 5,
                                                    labelType=cv2.DIST_LABEL_PIXEL)
        lookup = np.zeros(int(labels.max()) + 1)
        lookup[labels[known]] = -side * d[known]
        return lookup[labels]

    side = np.sign(points[:, 0].mean()) or 1.0
    at = (np.clip(((points[:, 1] - lo[0]) / res + 1).astype(int), 0, size[0] - 1),
          np.clip(((points[:, 2] - lo[1]) / res + 1).astype(int), 0, size[1] - 1))
    outside = side * (points[:, 0] - extent(side)[at])
    return np.c_[extent(-side)[at] - side * outside, points[:, 1:]]


def _clear_of_head(x: np.ndarray, y: np.ndarray, depth: np.ndarray, faces: np.ndarray,
                   head_front: np.ndarray) -> np.ndarray:
    """The front grid's depths [n] (metres towards the camera; x, y [n]: photo pixels) raised so every
    triangle of `faces` stays HAIR_GAP over the head (`head_front` [H,W], -inf off the head) between
    its corners, not only at them: on the skull's curved side, beside the ear, the flat triangles cut
    into the head and its skin showed through the hair and the ear as jagged scraps."""
    h, w = head_front.shape
    fid, bary, near = rasterize(np.c_[x, y], -depth, faces, w, h, cull_backfaces=False)
    hit = (fid >= 0) & np.isfinite(head_front)
    short = head_front[hit] + HAIR_GAP + near[hit]  # metres the shell lies under the head there (near = -depth)
    # Each corner is raised by its share of the shortfall (the least raise of the three that lifts that
    # point clear): raising all three by the triangle's worst shortfall lifted the corner on the head's
    # flatter side too, and a triangle spanning the head's steep side stood centimetres off it there.
    under = short > 0
    b, d, f = bary[hit][under].astype(np.float64), short[under], fid[hit][under]
    each = d[:, None] * b / np.maximum((b * b).sum(1, keepdims=True), 1e-12)
    lift = np.zeros(len(depth))
    for k in range(3):
        np.maximum.at(lift, faces[f, k], each[:, k])
    return depth + lift


def _signed_distance(mask: np.ndarray, outside_max: float, open_below: bool = False) -> np.ndarray:
    """[H,W] pixels from each pixel's centre to the outline of `mask` (between its pixels): + inside,
    - outside (at most `outside_max` out). The picture's edges are outline too (but its bottom with
    `open_below`, where the body goes on): a body the frame cuts off thins towards the cut and rounds
    off there, as a sculpted bust does. (Counted as inside, the frame's side left the body its full
    depth at the cut, and the rim closed it with a flat cap: seen turned, a skin-coloured disc stood
    out sideways from the clip's shoulder, a slab from Grace's.)"""
    import cv2

    framed = np.pad(mask, ((1, 0 if open_below else 1), (1, 1)))
    inside = cv2.distanceTransform(framed.astype(np.uint8), cv2.DIST_L2, 5)[1:1 + mask.shape[0], 1:-1]
    outside = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5)
    return np.where(mask, inside - 0.5, -np.minimum(outside - 0.5, outside_max)).astype(np.float32)


def _cut_coverage(curve: np.ndarray, cx: float, xl: float, xr: float, w: int) -> np.ndarray:
    """[len(curve), w] 0..1: how much of each pixel of the made-up chest's rows lies inside its rounded cut,
    whose half-widths are `curve` [rows] (0..1) of the picture's edge's (cx - xl left, xr - cx right). By
    the distance to the outline across it, not whether the pixel's centre is inside: a pixel-stepped
    outline was a saw-tooth down the chest's side, below a shoulder the picture cuts off."""
    x = np.arange(w, dtype=np.float64)[None, :]
    cover = np.full((len(curve), w), np.inf)
    for side, half in ((-1.0, cx - xl), (1.0, xr - cx)):
        edge = cx + side * (half * curve + 1)  # [rows] (a pixel's slack: where the picture cut the body at its side, the cut begins at that pixel)
        across = np.sqrt(1 + np.gradient(edge) ** 2) if len(edge) > 1 else np.ones(1)  # outline's run per row
        cover = np.minimum(cover, side * (edge[:, None] - x) / across[:, None])
    return np.clip(0.5 + cover, 0, 1).astype(np.float32)


def _above_lobes(y: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """True for photo rows `y` above both ear lobes (and the mouth), where turned pictures may colour the
    shell: below them earrings swing from frame to frame (one frame's earring is another's neck), and the
    clip's turned frames laid a patch of pink streaks on the neck under her earring."""
    top = min(float(lm[list(LOBE), 1].min()), float(lm[[L.MOUTH_CORNER_L, L.MOUTH_CORNER_R], 1].mean()))
    return np.asarray(y) < top


def _follow(y: np.ndarray, lm: np.ndarray, s: float) -> np.ndarray:
    """How much a shell point at image row `y` turns with the head: 1 above the chin (hair, ears), 0
    from a neck's length below it (s: pixels per metre)."""
    return smoothstep(1 - (np.asarray(y, np.float64) - float(lm[L.CHIN, 1])) / (0.06 * s))


def shell_colours(rgb: np.ndarray, pixels, front: np.ndarray, rot: np.ndarray, t: np.ndarray, s: float,
                  turning: np.ndarray, head, side_views, calibration, inside: np.ndarray,
                  side_probs=None, hair: np.ndarray | None = None, skin: np.ndarray | None = None,
                  normals: np.ndarray | None = None, as_photographed: bool = False, with_trust: bool = False):
    """The shell's front texture [th,tw,3] from its photo's colours `rgb` and the turned `side_views`.

    The front is a height field over the photo, so where it curves away (the sides of the hair, the
    ears, the neck's and chest's sides) the photo saw it at a grazing angle, and a few pixels of it
    stretch over what a turned view shows wide: an earring drawn as grey streaks across the side
    of the head. Per texel the view that sees it most squarely gives the colour (the photo unless
    another clearly beats it; turned views only where `turning` [th,tw] is set: what turns with the
    head, away from the face);
    texels no view saw squarely enough are filled from what was seen well around them, of their own
    kind: hair from hair, the rest (skin, cloth) from the rest (`class_fill`). A texel seen only edge-on
    is as good as unseen: its colour is a photo pixel stretched over the side of the head (the clip's
    ear and earring drawn as a patchwork of skin pieces and a white streak, seen turned 35 degrees).
    `pixels`: (x, y) [th,tw] photo pixel of each texel; `front` [H,W]: camera depth (metres) of the
    front surface; rot, t, s: the photo's pose; `inside` [th,tw]: texels in the person; `side_probs`:
    the side views' person segments (segmented here when omitted); `hair`, `skin` [th,tw]: texels known
    to be the person's hair (or what covers the crown) and face skin, from which each texel's kind is
    told by its colour (none given: one kind); `normals` [th,tw,3]: the shell mesh's own normals in the
    photo's camera frame (`texel_normals`; else the height field's). A turned picture sees what lies at its
    person's outline edge-on, whatever the shell's normal there says (`limb_facing`), and the trusted texels
    hand over to the fill over SHELL_HANDOVER. `as_photographed`: the front as the photo's own camera sees
    it instead: trusted from SHELL_FRONT_NZ, neither rule. `with_trust`: (texture, [th,tw] 0..1 how much of
    each texel is the views' own colour rather than the fill)."""
    import cv2

    from .controls import codes_from_landmarks, fit_calibration

    px, py = pixels
    lo, hi = SHELL_FRONT_NZ if as_photographed else SHELL_SEEN_NZ
    h, w = front.shape
    ix = np.clip(np.round(px).astype(int), 1, w - 2)
    iy = np.clip(np.round(py).astype(int), 1, h - 2)
    z = front[iy, ix]
    # Normal of the height field in the camera frame (x right, y up, z towards the camera), metres.
    dzdx = (front[iy, ix + 1] - front[iy, ix - 1]) * s / 2
    dzdy = -(front[iy + 1, ix] - front[iy - 1, ix]) * s / 2
    n_cam = np.stack([-dzdx, -dzdy, np.ones_like(z)], -1) if normals is None else np.asarray(normals, np.float64)
    n_cam /= np.maximum(np.linalg.norm(n_cam, axis=-1, keepdims=True), 1e-12)
    cam = np.stack([(px - t[0]) / s, -(py - t[1]) / s, z], -1)
    points, normals = cam @ rot, n_cam @ rot  # head axes
    score = [n_cam[..., 2] + BEST_VIEW_BONUS]
    colours = [rgb.astype(np.float32)]
    seen = n_cam[..., 2].copy()
    if side_probs is None:
        side_probs = [person_segment(image, lm) for image, lm in side_views]
    for (image, lm), prob in zip(side_views, side_probs):
        image = np.asarray(image)
        lm = check_landmarks(lm, batch=False)
        cal = calibration if calibration is not None else fit_calibration(lm[None])
        verts = head.reconstruct(codes_from_landmarks(lm, cal))
        pose = fit_pose(lm, verts[:478], float(image.shape[1]))
        xyz = project(points, pose, float(image.shape[1]))  # [th,tw,3] px
        facing = normals @ matrix_from_euler(*pose[:3])[2]
        # The shell is the photo's guess of the surface: where the picture shows it at its outline, it saw it
        # edge-on whatever the guess's normal says (the clip's jaw and neck below the ear, drawn as stripes).
        edge = cv2.distanceTransform((prob > 0.5).astype(np.uint8), cv2.DIST_L2, 5)
        within = cv2.remap(edge, xyz[..., 0].astype(np.float32) - 0.5, xyz[..., 1].astype(np.float32) - 0.5,
                           cv2.INTER_LINEAR)
        if not as_photographed:
            facing = np.minimum(facing, limb_facing(within / (float(pose[5]) * image.shape[1])))
        head_xyz = project(verts, pose, float(image.shape[1]))
        _, _, head_z = rasterize(head_xyz[:, :2], head_xyz[:, 2], head.faces, image.shape[1], image.shape[0])
        mx, my = xyz[..., 0].astype(np.float32), xyz[..., 1].astype(np.float32)
        in_frame = (mx >= 0) & (mx <= image.shape[1] - 1) & (my >= 0) & (my <= image.shape[0] - 1)
        qx = np.clip(mx.astype(int), 0, image.shape[1] - 1)
        qy = np.clip(my.astype(int), 0, image.shape[0] - 1)
        face_px = float(np.ptp(lm[:, 0]))
        unhidden = xyz[..., 2] <= head_z[qy, qx] + 0.02 * face_px  # not behind the head (its far side)
        usable = in_frame & unhidden & (prob[qy, qx] > 0.8) & (turning > 0.5) & (facing > lo)
        score.append(np.where(usable, facing, -np.inf))
        # (its rim free of its own background, as the photo's: a turned view sees the neck against the flag too)
        colours.append(cv2.remap(rim_cleaned(image, prob), mx - 0.5, my - 0.5, cv2.INTER_LINEAR).astype(np.float32))
        seen = np.maximum(seen, np.where(usable, facing, -1.0))
    score = np.stack(score)  # [K,th,tw]
    wts = np.exp((score - score.max(0, keepdims=True)) / VIEW_SOFTNESS)
    out = np.einsum("khw,khwc->hwc", wts, np.stack(colours)) / wts.sum(0)[..., None]
    # What no view saw squarely is what was seen well around it, blurred: a plausible side, no streaks.
    trust = np.clip((seen - lo) / (hi - lo), 0, 1).astype(np.float32) * inside
    per_metre = s * rgb.shape[1] / max(float(np.ptp(px)), 1.0)  # texels per metre of the photo's plane
    sigma = max(1.0, SHELL_FILL_BLUR * per_metre)
    if not as_photographed:
        # The views' masks (in the person, not behind the head, above the lobes) cut the trust off sharply:
        # it ramps down inside them instead, so a turned picture's ear does not end in an edge.
        trust = np.minimum(trust, cv2.GaussianBlur(trust, (0, 0), max(1.0, SHELL_HANDOVER * per_metre)))
    good = trust > 0.99
    # Where turned views may not colour (the face's surroundings, the body), not even through the fill.
    own = (turning <= 0.5)[..., None]
    source = np.where(own, rgb.astype(np.float32), out) if len(side_views) else out
    # Which kind an ill-seen texel is, from the share of hair-coloured texels around it: its own stretched
    # colour comes in stripes (a row of the ear, one of the earring, one of hair), and a fill of each stripe's
    # kind redrew them.
    hairy = hair_like(source, good, hair, skin)
    share = cv2.GaussianBlur(hairy.astype(np.float32), (0, 0), sigma / 2)
    share = np.maximum(share, _behind_ears(points, head, turning))
    fill = class_fill(source, good, hairy, share, sigma)
    rgb = (trust[..., None] * out + (1 - trust[..., None]) * fill).clip(0, 255).astype(np.uint8)
    return (rgb, trust) if with_trust else rgb


def limb_facing(depth: np.ndarray) -> np.ndarray:
    """normal . view of a body seen `depth` metres inside its outline, the body a sphere of INFLATE_RADIUS
    (as the shell is inflated): 0 at the outline, 1 a radius in."""
    d = np.clip(np.asarray(depth, np.float64) / INFLATE_RADIUS, 0, 1)
    return np.sqrt(1 - (1 - d) ** 2)


def texel_normals(vertices: np.ndarray, faces: np.ndarray, fid: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """[th,tw,3] unit normals of a mesh (`vertices` [V,3], `faces` [F,3]) at its texels (`fid` [th,tw] face, -1
    none: +z; `bary` [th,tw,3]), interpolated from area-weighted vertex normals and turned towards +z
    (the camera): how squarely the photo saw each texel of the shell as it is built, a grid cell at a
    time. (The photo's height field is steeper or flatter than the cell laid over it: on the clip the
    side of the head read as seen squarely where its cells are drawn from a few stretched pixels.)"""
    v = np.asarray(vertices, np.float64)
    fn = np.cross(v[faces[:, 1]] - v[faces[:, 0]], v[faces[:, 2]] - v[faces[:, 0]])  # [F,3], |n| = 2 x area
    fn *= np.sign(fn[:, 2].sum()) or 1.0
    vn = np.zeros_like(v)
    for k in range(3):
        np.add.at(vn, faces[:, k], fn)
    out = np.zeros(fid.shape + (3,))
    out[..., 2] = 1.0
    hit = fid >= 0
    out[hit] = np.einsum("pk,pkc->pc", bary[hit], vn[faces[fid[hit]]])
    return out / np.maximum(np.linalg.norm(out, axis=-1, keepdims=True), 1e-12)


def hair_like(colours: np.ndarray, good: np.ndarray, hair: np.ndarray | None, skin: np.ndarray | None) -> np.ndarray:
    """[th,tw] bool: texels whose colour (`colours` [th,tw,3]) lies nearer the median of the well-seen
    (`good`) `hair` texels than that of the well-seen `skin` ones; all False when either is missing."""
    if hair is None or skin is None or not (hair & good).any() or not (skin & good).any():
        return np.zeros(colours.shape[:2], bool)
    ref_hair = np.median(colours[hair & good], axis=0)
    ref_skin = np.median(colours[skin & good], axis=0)
    c = np.asarray(colours, np.float32)
    return np.linalg.norm(c - ref_hair, axis=-1) < np.linalg.norm(c - ref_skin, axis=-1)


def _behind_ears(points: np.ndarray, head, turning: np.ndarray) -> np.ndarray:
    """[th,tw] 1 for texels over the head (`turning`: what turns with it, above the lobes) lying EAR_DEPTH
    or more behind the ear lobes' landmarks (`points` [th,tw,3] head axes, +z forward): the hair behind the
    ear, which no frontal picture sees (its stretched texels there are the ear's skin)."""
    lobes = head.vertices[head.landmark_vertices[list(LOBE)]]
    return ((turning > 0.5) & (points[..., 2] < float(lobes[:, 2].mean()) - EAR_DEPTH)).astype(np.float32)


def class_fill(colours: np.ndarray, good: np.ndarray, hairy: np.ndarray, share: np.ndarray, sigma: float) -> np.ndarray:
    """[th,tw,3] float: the well-seen (`good` [th,tw]) `colours` of each kind (`hairy` [th,tw] bool: hair,
    else the rest: skin, cloth) around each texel, blurred over `sigma` texels (where none of a kind lies
    within reach, its nearest, smoothed alike), mixed by the texel's `share` [th,tw] 0..1 of hair: a
    refilled texel behind the ear takes the hair's colour, not a blend of the ear's skin and the hair."""
    import cv2

    colours = np.asarray(colours, np.float32)
    fills = []
    for kind in (hairy, ~hairy) if hairy.any() else (~hairy,):  # no hair told apart: one kind, one fill
        src = good & kind
        if not src.any():
            src = good  # none of this kind was seen well: any well-seen texel
        if not src.any():
            return colours.copy()
        w = np.where(src, 1.0, 1e-3).astype(np.float32)  # the nearest-filled colours count only far from seen ones
        near = fill_nearest(colours, src) * w[..., None]
        fills.append(cv2.GaussianBlur(near, (0, 0), sigma) / cv2.GaussianBlur(w, (0, 0), sigma)[..., None])
    if len(fills) == 1:
        return fills[0]
    share = np.clip(share, 0, 1)[..., None]
    return share * fills[0] + (1 - share) * fills[1]


def _boundary_edges(faces: np.ndarray) -> np.ndarray:
    """Directed edges [K,2] used by exactly one triangle (the rim of an open surface)."""
    e = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    key = np.sort(e, 1)
    _, inv, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    return e[counts[inv.reshape(-1)] == 1]


def person_segment(image: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """[H,W] float32 person probability of a whole picture, the person being the one at the nose of `lm`."""
    return segment_person(image, keep_at=(float(lm[L.NOSE_TIP, 0]), float(lm[L.NOSE_TIP, 1])))


def person_texels(image: np.ndarray, lm: np.ndarray, head, code: np.ndarray, size: int,
                  prob: np.ndarray | None = None) -> np.ndarray:
    """[size,size] uint8 255 where a texel's pixel in `image` belongs to the person, 0 on background.

    The skull and neck of the head mesh reach past the real head's outline in a frontal picture
    (a flag or a wall beside the neck): those texels are left to the completion, which fills them
    from the nearest skin or hair, instead of painting the background onto the sides of the head.
    """
    from .unwrap import unwrap

    import cv2

    prob = person_segment(image, lm) if prob is None else prob
    person = prob > 0.5
    if person.sum() < 100:  # no person found: keep what the head's own visibility says
        return np.full((size, size), 255, np.uint8)
    # Only the confident inside: the segment's soft rim holds a mix of person and background.
    face_px = max(float(np.ptp(lm[:, 0])), float(np.ptp(lm[:, 1])), 1.0)
    k = 2 * int(round(PERSON_RIM * face_px)) + 1
    inside = cv2.erode((prob > 0.8).astype(np.uint8) * 255, np.ones((k, k), np.uint8))
    seen, _ = unwrap(np.repeat(inside[..., None], 3, -1), lm, head, code, size=size)
    return np.where(seen[..., 0] > 200, 255, 0).astype(np.uint8)


def detailed_face_texture(views: list[tuple[np.ndarray, np.ndarray, float]], head, size: int = 512,
                          calibration=None) -> tuple[np.ndarray, np.ndarray]:
    """(texture [size,size,3] uint8 with never-seen texels filled, seen mask [size,size] uint8) from
    the sharpest views: `views` are (RGB image, its [478,3] landmarks, weight e.g. quality x
    sharpness). Each texel takes a weighted mean of the views that saw it, the weights raised to a
    high power so the sharpest view dominates and small misfits do not blur the result.

    Texels no view saw well are a membrane through the well-seen ones (fill.harmonic_fill), and the
    texels a view saw only at a grazing angle or at the rim of what it saw fade into that membrane:
    between the cheek and the ear a frontal photo holds a few smeared pixels, which the nearest-texel
    fill used to extrude into flat, straight-edged wedges."""
    faces = face_textures(views, head, size, calibration)
    return faces.texture, faces.seen


@dataclass
class FaceTextures:
    """The bust's face textures (see `face_textures`)."""

    texture: np.ndarray  # [S,S,3] uint8: the sharp views' texture, shown from the front
    seen: np.ndarray  # [S,S] uint8: 255 where a sharp view saw the texel
    sides: np.ndarray  # [2,S,S,3] uint8: [0] the subject's right (-x) side, [1] her left (+x)


def face_textures(views: list[tuple[np.ndarray, np.ndarray, float]], head, size: int = 512, calibration=None,
                  side_views=(), side_probs=None, far: int = 0) -> FaceTextures:
    """The detailed face texture from `views` (see `detailed_face_texture`) and, from the turned
    pictures `side_views` (image, landmarks), one texture per side of the face for views that see
    the head turned. A frontal picture sees the sides of the nose and the cheeks at a slant; on a side
    texture the turned pictures of that side take over every texel they see more squarely than all
    the sharp views (going over within TURNED_SOFTNESS of normal . view), their light first levelled
    to the sharp views' (`_levelled`): they were lit from another angle. From the front their texels
    make the nose blotchy, so the room blends a side texture in only as the head is seen turned. A side
    no turned picture saw (both for a single photo) is the front with what the sharp views saw there only
    edge-on, or not at all, made of their well-seen skin continued round (`side_skin.continued_skin`).
    `side_probs`: the turned pictures' person segments (`person_segment`), segmented here when omitted. `far`:
    the side (+1 her left, -1 her right, 0 neither) her photo saw edge-on (`_far_ear`), whose skin before the ear
    every sharp view saw facing away: on its side texture it is lit as the cheek (`_before_ear`)."""
    from .unwrap import uv_raster

    if not views:
        raise GeometryError("no views to build the face texture from")
    if size < 64 or size & (size - 1):
        raise GeometryError(f"face texture size must be a power of two >= 64, got {size}")
    fid, bary = uv_raster(head, size)
    sharp = [_face_view(image, lm, head, size, calibration, fid) for image, lm, _ in views]
    weights = [float(max(w, 1e-6)) ** 4 for *_, w in views]
    # (a single picture's rim along a cut through the face is all there is of her there: kept, see `_away_from_cut`)
    several = len(views) > 1
    texture, seen = _completed(list(zip(sharp, weights)), head, fid, bary, several)
    side_probs = [None] * len(side_views) if side_probs is None else side_probs
    turned = [_face_view(image, lm, head, size, calibration, fid, prob)
              for (image, lm), prob in zip(side_views, side_probs)]
    if not turned:
        return FaceTextures(texture, seen, np.stack(_unseen_sides(list(zip(sharp, weights)), texture, head, fid,
                                                                  bary, (-1.0, 1.0))))
    from .fill import texel_positions

    xyz = texel_positions(head, fid, bary)
    x = xyz[..., 0] * (fid >= 0)
    light = delight(texture, seen, head).gain if far else None  # the capture's light the room takes out of the face
    front = np.max([v.facing * (v.mask > 0) for v in sharp], axis=0)  # how squarely the sharp views saw each texel
    still = _away_from_moving_parts(head, xyz)
    sides = []
    for sign in (-1.0, 1.0):
        own = [_levelled(v, sharp) for v in turned if sign * float((v.facing * (v.mask > 0) * x).sum()) > 0]
        if not own:
            sides += _unseen_sides(list(zip(sharp, weights)), texture, head, fid, bary, (sign,))
            continue
        takes = [turned_share(v, front, size) * still for v in own]
        taken = np.max(takes, axis=0)
        pairs = [(v, w * (1 - taken)) for v, w in zip(sharp, weights)] + [(v, max(weights) * t) for v, t in zip(own, takes)]
        side = _completed(pairs, head, fid, bary, several)[0]
        sides.append(_before_ear(side, light, front, xyz, head, sign) if sign == far else side)
    return FaceTextures(texture, seen, np.stack(sides))


def _before_ear(side: np.ndarray, gain: np.ndarray, front: np.ndarray, xyz: np.ndarray, head, sign: float) -> np.ndarray:
    """The side texture [S,S,3] of the head's `sign` side (+1 her left) with the skin between her cheek and her
    ear in the light of the cheek's. Every picture saw it facing away from her light and in her ear's and hair's
    shade, darker than the delighting (`gain` [S,S], fitted on the skin the sharp views saw squarely) takes out:
    seen turned it was a dark strip between cheek and ear. Texels no sharp view saw squarely (`front` [S,S] their
    best normal . view) in front of the ear (`xyz` [S,S,3] the texels' rest positions), where their delit light
    is under the well-seen skin's round them, are brought up to it; hair (dark) stays."""
    import cv2

    size = side.shape[0]
    lobe = head.vertices[head.landmark_vertices[LOBE[0 if sign < 0 else 1]]]
    x, y, z = xyz[..., 0] * sign, xyz[..., 1] - lobe[1], xyz[..., 2] - lobe[2]
    soft = BEFORE_EAR_SOFT
    where = (smoothstep((x - abs(float(lobe[0])) + BEFORE_EAR[2]) / soft) * smoothstep((y + BEFORE_EAR[0]) / soft)
             * smoothstep((BEFORE_EAR[1] - y) / soft) * smoothstep(z / soft) * smoothstep((BEFORE_EAR[3] - z) / soft))
    raw = side.astype(np.float32) @ LUMA_F32
    skin = smoothstep((raw - 0.75 * EAR_LUMA) / (0.5 * EAR_LUMA)).astype(np.float32)  # hair (about EAR_LUMA and darker) stays
    lum = raw * gain
    well = ((front >= FRONT_NZ) * skin).astype(np.float32)
    big = BEFORE_EAR_BLUR * size / 512
    ref = cv2.GaussianBlur(lum * well, (0, 0), big) / np.maximum(cv2.GaussianBlur(well, (0, 0), big), 1e-6)
    # 1 where no sharp view saw it better than grazing, 0 from FRONT_NZ; smoothed, as `facing` is one value per
    # triangle (else the lift's edges drew the triangles as creases)
    slant = np.clip((FRONT_NZ - front) / (FRONT_NZ - GRAZING_NZ), 0, 1)
    slant = cv2.GaussianBlur(slant.astype(np.float32), (0, 0), TAKE_BLUR * size / 512)
    band = (slant * skin * where).astype(np.float32)
    sigma = LEVEL_BLUR * size / 512
    own = cv2.GaussianBlur(lum * band, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(band, (0, 0), sigma), 1e-6)
    lift = np.clip(ref / np.maximum(own, 1.0), 1.0, BEFORE_EAR_MAX)
    lift = 1 + (lift - 1) * band
    return (side * lift[..., None]).round().clip(0, 255).astype(np.uint8)


@dataclass
class FaceView:
    """One picture unwrapped onto the face texture."""

    uv: np.ndarray  # [S,S,3] uint8 colours
    mask: np.ndarray  # [S,S] uint8, 255 where the picture saw the texel (and the person)
    feather: np.ndarray  # [S,S] float32 0..1: the mask, fading at its edge so views blend there
    facing: np.ndarray  # [S,S] float32 0..1: normal . view of each texel (1 = seen head-on)
    trust: np.ndarray  # [S,S] float32 0..1 (`view_trust`)
    cut: np.ndarray | None = None  # [S,S] bool: texels the picture showed but the person segment cut off


def _face_view(image: np.ndarray, lm: np.ndarray, head, size: int, calibration, fid: np.ndarray,
               prob: np.ndarray | None = None) -> FaceView:
    import cv2

    from .controls import codes_from_landmarks, fit_calibration
    from .unwrap import face_normals_z, posed_vertices, unwrap

    lm = check_landmarks(lm, batch=False)
    cal = calibration if calibration is not None else fit_calibration(lm[None])
    code = codes_from_landmarks(lm, cal)
    uv, shown = unwrap(image, lm, head, code, size=size)
    mask = shown & person_texels(image, lm, head, code, size, prob)
    # Feathered visibility: texels at the edge of what a view saw blend with the others.
    feather = cv2.GaussianBlur((mask > 0).astype(np.float32), (0, 0), size / 256) * (mask > 0)
    xyz = posed_vertices(head, lm, code, None, float(image.shape[1]))
    facing = np.clip(-face_normals_z(xyz, head.faces)[np.maximum(fid, 0)], 0, 1).astype(np.float32)
    return FaceView(uv, mask, feather, facing, view_trust(image, lm, head, code, fid, mask), (shown > 0) & (mask == 0))


def _completed(pairs: list[tuple[FaceView, float | np.ndarray]], head, fid: np.ndarray,
               bary: np.ndarray, cut_rim: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(texture, seen mask) from views with their weights (a number or [S,S] per texel), never-seen
    texels filled (see `detailed_face_texture`). `cut_rim`: the seen rim along a person segment's cut through the
    face goes to the fill too (`_away_from_cut`)."""
    import cv2

    from .unwrap import complete_texture

    size = fid.shape[0]
    uv, seen, trust = _combined(pairs)
    # Along a cut the person segment made through what a view showed (a jaw's outline lying on the segment's
    # edge), the seen texels are the outline's blend of her and the background: they go to the membrane too.
    # Above the ears the seen texels stay as they are (the hairline is seen at a slant, and the
    # shell's hair fades into it); the fade to the membrane is for the sides below.
    above = _above_eyes(head, fid, bary)
    keep = np.maximum(_away_from_cut(pairs, seen, head, fid), above) if cut_rim else np.ones(seen.shape, np.float32)
    kept = seen & (keep >= 0.5)
    mask = (kept * 255).astype(np.uint8)
    trust = np.where(seen, np.maximum(trust, TRUSTED * above), 0)
    # The membrane runs through a blurred copy of everything seen (hair stays hair, skin skin, but a
    # grazing triangle's smear is gone); what was seen well keeps its own sharp texels on top.
    sigma = SEEN_BLUR * size / 512
    weight = cv2.GaussianBlur(kept.astype(np.float32), (0, 0), sigma)
    soft = cv2.GaussianBlur(uv.astype(np.float32) * kept[..., None], (0, 0), sigma) / np.maximum(weight, 1e-6)[..., None]
    filled = complete_texture(soft.round().clip(0, 255).astype(np.uint8), mask, head, smooth=True)
    # A small hole (the underside of the nose tip and the nostrils' wings, which no view faces) takes its
    # colours from its own rim, sharp: the membrane through the blurred texture drew light skin-coloured
    # slivers into the dark nostrils, a ragged edge under the nose.
    holes = small_holes(seen, fid >= 0)
    if holes.any():
        local = cv2.inpaint(uv, holes.astype(np.uint8) * 255, HOLE_INPAINT * size / 512, cv2.INPAINT_TELEA)
        filled = np.where(holes[..., None], local, filled)
    t = (np.clip(trust / TRUSTED, 0, 1) * keep)[..., None]
    return (t * uv + (1 - t) * filled).round().clip(0, 255).astype(np.uint8), mask


def _away_from_cut(pairs: list[tuple[FaceView, float | np.ndarray]], seen: np.ndarray, head, fid: np.ndarray) -> np.ndarray:
    """[S,S] float32 0..1: 0 on the face's texels some view showed but its person segment cut off and no view saw
    (the cut), rising smoothly to 1 at CUT_RIM texels (per 512) from them; 1 everywhere when there is no such cut.

    The clip's right jaw angle lies on her segment's edge in every frame: the segment cut the mesh's outer cheek
    off, and the seen texels beside that cut are pixels of her outline blended with the light flag behind her.
    Kept, they were a lighter, yellower patch whose edge was a dark diagonal line down her near cheek seen turned.
    Only cuts through the face itself (the landmarks' mesh, inside the face's oval) count: the skull and neck the
    head mesh adds reach past the outline of any frontal photo (`person_texels`), and their rim is hair or neck
    seen well, which a single photo's bust needs. A face texture from one sharp picture keeps its rim even there
    (`face_textures`): it is all there is of her at the outline, where several sharp frames that all cut the same
    texels tell her outline from a segment's slip (Grace's outer cheeks by her glasses' arms lie on her single
    photo's segment edge: 3,400 texels would change)."""
    import cv2

    shown = [v.cut for v, _ in pairs if v.cut is not None]
    if not shown:
        return np.ones(seen.shape, np.float32)
    face = np.zeros(len(head.vertices), bool)
    face[head.regions.get("face", [])] = True
    on_face = (fid >= 0) & np.all(face[head.faces], 1)[np.maximum(fid, 0)]
    cut = np.any(shown, axis=0) & ~seen & on_face
    if not cut.any():
        return np.ones(seen.shape, np.float32)
    away = cv2.distanceTransform((~cut).astype(np.uint8), cv2.DIST_L2, 5) / (CUT_RIM * seen.shape[0] / 512)
    return smoothstep(np.clip(away, 0, 1)).astype(np.float32)


def _combined(pairs: list[tuple[FaceView, float | np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(colours [S,S,3] uint8: the views' weighted mean, seen [S,S] bool, trust [S,S]: the best view's)."""
    size = pairs[0][0].uv.shape[0]
    acc = np.zeros((size, size, 3), np.float64)
    tot = np.zeros((size, size), np.float64)
    trust = np.zeros((size, size), np.float32)
    for v, weight in pairs:
        w = v.feather * weight
        acc += w[..., None] * v.uv
        tot += w
        trust = np.maximum(trust, v.trust)
    seen = tot > 0
    uv = np.where(seen[..., None], acc / np.maximum(tot, 1e-12)[..., None], 0).clip(0, 255).astype(np.uint8)
    return uv, seen, trust


def _above_eyes(head, fid: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """[S,S] 0..1: 1 from SHARP_ABOVE_EYES[1] above the eyes up, 0 below SHARP_ABOVE_EYES[0]."""
    from .fill import eye_height, texel_positions

    low, high = SHARP_ABOVE_EYES
    return smoothstep((texel_positions(head, fid, bary)[..., 1] - eye_height(head) - low) / (high - low))


def _unseen_sides(pairs: list[tuple[FaceView, float | np.ndarray]], front: np.ndarray, head, fid: np.ndarray,
                  bary: np.ndarray, signs: tuple[float, ...]) -> list[np.ndarray]:
    """The side textures of the sides `signs` x (-1 her right, +1 her left) that no turned picture saw: the
    `front` texture with what the sharp views saw there only edge-on, or not at all, made of their well-seen
    skin continued round (`side_skin`)."""
    from .side_skin import continued_skin

    uv, seen, trust = _combined(pairs)
    facing = np.max([v.facing for v, _ in pairs], axis=0)
    return continued_skin(front, uv, seen, facing, trust, head, fid, bary, _above_eyes(head, fid, bary), signs)


def _levelled(view: FaceView, sharp: list[FaceView]) -> FaceView:
    """The turned view with the sharp views' light: its colours times the ratio of the sharp views'
    colours to its own, both blurred over LEVEL_BLUR, over what both saw (spread by normalised blur)."""
    import cv2

    size = view.uv.shape[0]
    sigma = LEVEL_BLUR * size / 512
    both = (view.mask > 0) & (np.max([v.mask for v in sharp], axis=0) > 0)
    ref = np.zeros((size, size, 3), np.float32)
    tot = np.zeros((size, size), np.float32)
    for v in sharp:
        w = (v.mask > 0).astype(np.float32) * v.facing
        ref += w[..., None] * v.uv
        tot += w
    ref = ref / np.maximum(tot, 1e-6)[..., None]
    m = both.astype(np.float32)
    spread = np.maximum(cv2.GaussianBlur(m, (0, 0), sigma), 1e-6)[..., None]
    own = cv2.GaussianBlur(view.uv.astype(np.float32) * m[..., None], (0, 0), sigma) / spread
    gain = (cv2.GaussianBlur(ref * m[..., None], (0, 0), sigma) / spread + 1.0) / (own + 1.0)
    gain[spread[..., 0] < 1e-3] = 1.0  # nothing both saw nearby: unchanged
    uv = np.clip(view.uv * gain, 0, 255).astype(np.uint8)
    return FaceView(uv, view.mask, view.feather, view.facing, view.trust, view.cut)


def turned_share(view: FaceView, front: np.ndarray, size: int) -> np.ndarray:
    """[S,S] 0..1: how much of a side texture a turned `view` takes where it sees the surface more
    squarely than the sharp views did (`front` [S,S], their best normal . view), going over within
    TURNED_SOFTNESS of it and spread over TAKE_BLUR texels: `facing` is one value per triangle, so
    where a triangle's edge crossed the switch the share jumped along that edge (a straight colour seam
    down the nose's side, seen turned 35 degrees). The view still adds only texels it saw: its weight
    carries its own feathered mask."""
    import cv2

    take = smoothstep((view.facing * (view.mask > 0) - front) / TURNED_SOFTNESS).astype(np.float32)
    return cv2.GaussianBlur(take, (0, 0), TAKE_BLUR * size / 512).clip(0, 1)


def _away_from_moving_parts(head, xyz: np.ndarray) -> np.ndarray:
    """[S,S] 0..1: 0 on and near the lips and the eyelids, 1 from MOVING_REACH away: a turned picture
    shows them in another expression (a second lower-lip edge on the chin, a lid half closed)."""
    from scipy.spatial import cKDTree

    from .delight import LIPS

    ids = head.landmark_vertices[[*LIPS, *L.EYE_RING_L, *L.EYE_RING_R]]
    dist, _ = cKDTree(head.vertices[ids]).query(xyz.reshape(-1, 3))
    near, far = MOVING_REACH
    return smoothstep((dist.reshape(xyz.shape[:2]) - near) / (far - near)).astype(np.float32)




def small_holes(seen: np.ndarray, used: np.ndarray) -> np.ndarray:
    """[S,S] bool: the unseen texels of patches of at most HOLE_TEXELS (per 512x512) that seen texels
    enclose (none reaches the layout's unused texels `~used`): holes in what was seen, not its edge."""
    import cv2

    free = ~seen
    n, labels, stats, _ = cv2.connectedComponentsWithStats(free.astype(np.uint8), connectivity=4)
    hole = stats[:, cv2.CC_STAT_AREA] <= HOLE_TEXELS * (seen.shape[0] / 512) ** 2
    hole[np.unique(labels[~used])] = False
    return hole[labels] & free


def view_trust(image: np.ndarray, lm: np.ndarray, head, code: np.ndarray, fid: np.ndarray,
               mask: np.ndarray) -> np.ndarray:
    """[S,S] 0..1: how well one view saw each texel: 0 where it saw it at the grazing limit, 1 from
    FRONT_NZ on, and falling to 0 over RIM_TEXELS towards the edge of what it saw; smoothed so no
    triangle's own normal draws a line."""
    import cv2

    from .unwrap import GRAZING_NZ, face_normals_z, posed_vertices

    size = fid.shape[0]
    xyz = posed_vertices(head, lm, code, None, float(image.shape[1]))
    nz = -face_normals_z(xyz, head.faces)[np.maximum(fid, 0)]
    slant = np.clip((nz - GRAZING_NZ) / (FRONT_NZ - GRAZING_NZ), 0, 1).astype(np.float32)
    rim = RIM_TEXELS * size / 512
    # (a small hole in what it saw, under the nose or in a nostril's wing, is no rim: the nostrils keep
    # their own texels around it)
    inside = cv2.distanceTransform(((mask > 0) | small_holes(mask > 0, fid >= 0)).astype(np.uint8), cv2.DIST_L2, 5)
    t = slant * np.clip(inside / rim, 0, 1) * (mask > 0)
    return cv2.GaussianBlur(t, (0, 0), rim / 2) * (mask > 0)


def build_bust(image: np.ndarray, landmarks_px: np.ndarray, head, views=None, face_size: int = 512,
               calibration=None, meta: dict | None = None, side_views=()):
    """The BustModel for a subject: the shell from their best photo (`image` + its landmarks in image
    pixels, and the turned `side_views` (image, landmarks) for its sides) and the face texture from
    `views` (default: that photo alone)."""
    from assets.artifacts import BustModel

    # Each turned picture is segmented once, for the shell's sides and for the face's side textures alike.
    side_probs = [person_segment(side, lm) for side, lm in side_views]
    shell = lift_person(image, landmarks_px, head, side_views=side_views, calibration=calibration,
                        side_probs=side_probs)
    views = views or [(image, landmarks_px, 1.0)]
    faces = face_textures(views, head, face_size, calibration, side_views, side_probs,
                          _far_ear(matrix_from_euler(*shell["pose"][:3].astype(np.float64))))
    sides = shell["sides"]
    if shell["over_head"] is not None:  # a single photo (with turned ones: `_walls_over_head`)
        sides = over_head_sides(sides, *shell["over_head"], faces.sides)
    x0, y0, x1, y1 = shell["box"]
    info = {"photo_pose": [round(float(x), 5) for x in shell["pose"]], "photo_size": list(image.shape[:2][::-1]),
            "segment_box": [x0, y0, x1, y1], "views": len(views), "side_views": len(side_views), **(meta or {})}
    return BustModel(vertices=shell["vertices"], faces=shell["faces"], uvs=shell["uvs"], follow=shell["follow"],
                     texture=shell["texture"], face_texture=faces.texture, face_detail=faces.seen,
                     side_textures=faces.sides, shell_sides=sides,
                     backdrop=backdrop(image, shell["prob"][:image.shape[0]]), meta=info)


def backdrop(image: np.ndarray, prob: np.ndarray, max_side: int = 1024) -> np.ndarray:
    """The photo with the person painted out by the surrounding background (softened where painted),
    at most `max_side` pixels a side: what a living portrait shows behind the person's relief."""
    import cv2

    h, w = image.shape[:2]
    k = min(1.0, max_side / max(h, w))
    small = cv2.resize(image, (max(1, round(w * k)), max(1, round(h * k))), interpolation=cv2.INTER_AREA)
    person = cv2.resize((prob > 0.2).astype(np.uint8), small.shape[1::-1], interpolation=cv2.INTER_NEAREST)
    person = cv2.dilate(person, np.ones((7, 7), np.uint8)).astype(bool)
    if person.all():
        return np.full_like(small, int(np.median(small)))
    filled = cv2.GaussianBlur(fill_nearest(small, ~person), (0, 0), max(2.0, small.shape[1] / 60))
    return np.where(person[..., None], filled, small).astype(np.uint8)
