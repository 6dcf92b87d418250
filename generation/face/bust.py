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

import numpy as np

from assets import landmarks as L
from assets import expression
from . import topology as T
from .errors import GeometryError, check_landmarks
from .pose import fit_pose, matrix_from_euler, project
from .raster import rasterize
from .segment import fill_nearest, segment_person

SKULL_CENTRE_Z = -0.09  # metres behind the eye midpoint: the middle plane of the shell
INFLATE_RADIUS = 0.09  # metres: curvature of the inflation (a sphere of about a head's size)
BACK_SQUASH = 0.85  # the back surface bulges a little less than the front
HAIR_GAP = 0.003  # metres the hair shell keeps over the skull
GRID_CELLS = 70  # grid cells along the segment's longer side (the outline comes from the alpha, not the grid)
TEXTURE_MAX = 1024
CROWN_ABOVE = 0.03  # metres above the face's top landmark where hair (or a hat, or a bald crown) begins
JAW_ROOM = 0.015  # metres below the chin left to the head mesh, for the jaw to open into
EDGE_FADE = 0.012  # metres over which the shell fades into the face
BUST_TAPER = 0.12  # each side of a continued chest comes in by this fraction of its width at the cut
CHEST_CONTINUED = 0.08  # at most this many metres of chest are made up below the picture
PERSON_RIM = 0.03  # of the face's size: the segment's rim a face texel must keep away from
FRONT_NZ = 0.45  # a face texel seen at least this squarely (normal . view) is fully trusted
RIM_TEXELS = 16  # per 512 texels: the rim of a view's seen region that fades into the fill
SEEN_BLUR = 6  # per 512 texels: how much of what was seen less well is blurred before it is shown
TRUSTED = 0.6  # trust from which a seen texel is kept as it is
SHARP_ABOVE_EYES = (0.01, 0.04)  # metres above the eyes over which every seen texel becomes trusted
BUST_BOTTOM = 0.48  # metres below the eyes: a picture that cuts the chest off higher is continued to here


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
                prob: np.ndarray | None = None) -> dict:
    """The shell for one photo (RGB uint8 [H,W,3], its [478,3] landmarks, the fitted HeadModel).

    Returns vertices [V,3] (head metres), faces [F,3], uvs [V,2], follow [V] (0..1, how much a
    vertex turns with the head), texture RGBA [Th,2*Tw,4] (front | back), and the pose and
    segment used. `prob` [H,W] is the person probability (segmented here when omitted).
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
    # Pixels missing down to a bust's usual cut, continued for a little way only: the rest is a socle.
    ext = int(round(min(t[1] + BUST_BOTTOM * s - h, CHEST_CONTINUED * s)))
    if mask[-1].mean() > 0.05 and ext > 0:  # the picture cuts the body off: continue the chest down
        # The cloth's colours across the cut, smoothed so buttons and folds do not run down as stripes.
        k = max(2, h // 20)
        band = fill_nearest(image[-k:], mask[-k:])  # the person's colours only
        row = np.median(band, axis=0).astype(np.uint8)[None]  # [1,W,3]
        row = cv2.GaussianBlur(row, (0, 0), sigmaX=max(1.0, 0.03 * s), sigmaY=0.1)
        image = np.concatenate([image, np.repeat(row, ext, 0)])
        # The chest narrows towards the cut, as a sculpted bust does, instead of a straight block.
        cols = np.nonzero(mask[-1])[0]
        xl, xr = float(cols.min()), float(cols.max())
        depth = (np.arange(1, ext + 1) / ext)[:, None]  # [ext,1] 0..1 down the extension
        inset = BUST_TAPER * (xr - xl) * depth ** 1.5
        x = np.arange(w)[None, :]
        inside = (x >= xl + inset) & (x <= xr - inset)
        prob = np.concatenate([prob, np.repeat(prob[-1:], ext, 0) * inside])
        mask = prob > 0.5
        h = image.shape[0]
    xyz = project(verts, pose, float(w))  # [V,3] px, z < 0 towards the camera
    _, _, head_z = rasterize(xyz[:, :2], xyz[:, 2], head.faces, w, h, cull_backfaces=True)  # nearest head surface
    _, _, head_far = rasterize(xyz[:, :2], -xyz[:, 2], head.faces, w, h, cull_backfaces=False)
    on_head = np.isfinite(head_z)
    head_back = np.where(on_head, head_far / s, np.inf)  # metres: the far side of the head (model z)
    head_front = np.where(on_head, -head_z / s, -np.inf)  # metres towards the camera
    # The face, with room below the chin for the jaw to open: the head mesh's own region.
    oval = lm[list(T.named_loops()["oval"]), :2].astype(np.float32)
    oval = cv2.convexHull(np.concatenate([oval, oval + [0, JAW_ROOM * s]]).astype(np.float32)).reshape(-1, 2)
    face = np.zeros((h, w), np.uint8)
    cv2.fillPoly(face, [np.round(oval).astype(np.int32)], 1)
    face = cv2.erode(face, np.ones((3, 3), np.uint8)).astype(bool)
    # The shell's front fades out towards the face, so hair meets skin without an edge.
    fade = np.clip(cv2.distanceTransform((~face).astype(np.uint8), cv2.DIST_L2, 5) / (EDGE_FADE * s), 0, 1)

    # Inflation from the distance to the silhouette (metres), like a sphere's height over its rim.
    # The body goes on past the picture's bottom edge: its depth there is a straight body's, not the
    # narrowing continuation's (else the picture's lower corners curve back, and a framed portrait's
    # relief rounds off at its bottom corners).
    body = np.concatenate([mask[:h0], np.repeat(mask[h0 - 1:h0], h - h0, 0)]) if h > h0 else mask
    dist = cv2.distanceTransform(body.astype(np.uint8), cv2.DIST_L2, 5) / s
    dist = np.minimum(dist, INFLATE_RADIUS)
    inflate = np.sqrt(np.maximum(2 * INFLATE_RADIUS * dist - dist ** 2, 0))
    mid = float((rot @ np.array([0.0, 0.0, SKULL_CENTRE_Z]))[2])  # camera depth of the skull centre
    front = mid + inflate
    # Hair, ears and neck lie over the head mesh (they are the photo's own pixels); over the face,
    # which animates, the shell has a hole (cut below), fading out towards it: no step, no wall.
    front = np.where(on_head, np.maximum(front, head_front + HAIR_GAP), front)
    back = mid - BACK_SQUASH * inflate
    back = np.where(on_head, np.minimum(back, head_back - HAIR_GAP), back)  # the hair covers the back of the skull

    # Grid over the segment's box; a cell is kept when all its corners are in the person.
    ys, xs = np.nonzero(prob > 0.2)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    face_px = max(float(np.ptp(lm[:, 0])), float(np.ptp(lm[:, 1])), 1.0)
    photo_box = (box[0], box[1], box[2], min(box[3], h0))  # the grid's fineness follows the photo, not the made-up chest
    step = _grid_step(face_px, photo_box)
    gx = np.arange(box[0], box[2] + step, step).clip(0, w - 1)
    gy = np.arange(box[1], box[3] + step, step).clip(0, h - 1)
    px, py = np.meshgrid(gx, gy)  # [gh,gw]
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
    fz, bz = front[iy[used], ix[used]], back[iy[used], ix[used]]
    cam_xy = np.stack([(sel_x - t[0]) / s, -(sel_y - t[1]) / s], 1)  # metres, model-axes camera frame
    cam = np.concatenate([np.c_[cam_xy, fz], np.c_[cam_xy, bz]])  # [2n,3]
    vertices = cam @ rot  # back to head axes (rot maps head -> camera)

    # Texture atlas: the photo over the box (front) | the same with face and skin painted over by hair (back).
    x0, y0, x1, y1 = box
    scale = min(1.0, TEXTURE_MAX / max(x1 - x0, y1 - y0))
    tw, th = max(8, int(round((x1 - x0) * scale))), max(8, int(round((y1 - y0) * scale)))
    crop = cv2.resize(image[y0:y1, x0:x1], (tw, th), interpolation=cv2.INTER_AREA)
    alpha = cv2.resize(prob[y0:y1, x0:x1], (tw, th), interpolation=cv2.INTER_LINEAR)
    skin = cv2.resize(cv2.dilate((face & on_head).astype(np.uint8), np.ones((9, 9), np.uint8))[y0:y1, x0:x1],
                      (tw, th), interpolation=cv2.INTER_NEAREST).astype(bool)
    known = (alpha > 0.5) & ~skin
    # Behind the head only what the photo shows above the brows (hair, a hat, a bald crown) is copied,
    # so the back of the head never repeats the face, ears or collar.
    row_y = np.arange(th)[:, None] * (y1 - y0) / th + y0
    head_zone = cv2.resize(cv2.dilate(on_head.astype(np.uint8), np.ones((15, 15), np.uint8))[y0:y1, x0:x1], (tw, th),
                           interpolation=cv2.INTER_NEAREST).astype(bool) & (row_y < float(lm[L.CHIN, 1]))
    crown = known & (row_y < float(lm[L.FOREHEAD, 1]) - CROWN_ABOVE * s)  # above the forehead's skin
    back_rgb = fill_nearest(crop, known) if known.any() else crop
    if crown.any():
        back_rgb = np.where(head_zone[..., None], fill_nearest(crop, crown), back_rgb)
    # The back of the clothes: the front's cloth without its details (buttons, a tie, a name badge).
    cloth = cv2.medianBlur(back_rgb, min(255, 2 * int(0.04 * s * scale) + 1))
    back_rgb = np.where(head_zone[..., None], cv2.GaussianBlur(back_rgb, (0, 0), 4), cloth)
    front_rgb = fill_nearest(crop, alpha > 0.8)  # background colours never bleed in at the soft edge
    a = np.clip(alpha * 1.6 - 0.3, 0, 1)  # confident inside, fading at the rim
    fade_c = cv2.resize(fade[y0:y1, x0:x1].astype(np.float32), (tw, th), interpolation=cv2.INTER_LINEAR)
    a_front = (a * fade_c * 255).astype(np.uint8)
    texture = np.concatenate([np.dstack([front_rgb, a_front]), np.dstack([back_rgb, (a * 255).astype(np.uint8)])],
                             axis=1)

    u = ((sel_x - x0) / max(x1 - x0, 1)).clip(0, 1)
    v = 1 - ((sel_y - y0) / max(y1 - y0, 1)).clip(0, 1)
    uvs = np.concatenate([np.c_[0.5 * u, v], np.c_[0.5 + 0.5 * u, v]]).astype(np.float32)

    # Follow weight: 1 above the chin (hair, ears), 0 from a neck's length below it.
    chin_y = float(lm[L.CHIN, 1])
    neck_px = 0.06 * s
    follow_px = np.clip(1 - (sel_y - chin_y) / neck_px, 0, 1)
    follow_px = follow_px * follow_px * (3 - 2 * follow_px)
    follow = np.concatenate([follow_px, follow_px]).astype(np.float32)

    faces = np.concatenate([front_faces, back_faces, side_faces]).astype(np.int32)
    return dict(vertices=vertices.astype(np.float32), faces=faces, uvs=uvs, follow=follow, texture=texture,
                pose=pose.astype(np.float32), box=box, prob=prob)


def _boundary_edges(faces: np.ndarray) -> np.ndarray:
    """Directed edges [K,2] used by exactly one triangle (the rim of an open surface)."""
    e = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    key = np.sort(e, 1)
    _, inv, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    return e[counts[inv.reshape(-1)] == 1]


def person_texels(image: np.ndarray, lm: np.ndarray, head, code: np.ndarray, size: int) -> np.ndarray:
    """[size,size] uint8 255 where a texel's pixel in `image` belongs to the person, 0 on background.

    The skull and neck of the head mesh reach past the real head's outline in a frontal picture
    (a flag or a wall beside the neck): those texels are left to the completion, which fills them
    from the nearest skin or hair, instead of painting the background onto the sides of the head.
    """
    from .unwrap import unwrap

    import cv2

    prob = segment_person(image, keep_at=(float(lm[L.NOSE_TIP, 0]), float(lm[L.NOSE_TIP, 1])))
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
    import cv2

    from .controls import codes_from_landmarks, fit_calibration
    from .fill import eye_height, texel_positions
    from .unwrap import complete_texture, unwrap, uv_raster

    if not views:
        raise GeometryError("no views to build the face texture from")
    if size < 64 or size & (size - 1):
        raise GeometryError(f"face texture size must be a power of two >= 64, got {size}")
    fid, bary = uv_raster(head, size)
    acc = np.zeros((size, size, 3), np.float64)
    tot = np.zeros((size, size), np.float64)
    trust = np.zeros((size, size), np.float32)
    for image, lm, weight in views:
        lm = check_landmarks(lm, batch=False)
        cal = calibration if calibration is not None else fit_calibration(lm[None])
        code = codes_from_landmarks(lm, cal)
        uv, mask = unwrap(image, lm, head, code, size=size)
        mask = mask & person_texels(image, lm, head, code, size)
        # Feathered visibility: texels at the edge of what a view saw blend with the others.
        w = cv2.GaussianBlur((mask > 0).astype(np.float32), (0, 0), size / 256) * (mask > 0)
        w = w * float(max(weight, 1e-6)) ** 4
        acc += w[..., None] * uv
        tot += w
        trust = np.maximum(trust, view_trust(image, lm, head, code, fid, mask))
    seen = tot > 0
    uv = np.where(seen[..., None], acc / np.maximum(tot, 1e-12)[..., None], 0).clip(0, 255).astype(np.uint8)
    mask = (seen * 255).astype(np.uint8)
    # Above the ears the seen texels stay as they are (the hairline is seen at a slant, and the
    # shell's hair fades into it); the fade to the membrane is for the sides below.
    low, high = SHARP_ABOVE_EYES
    above = np.clip((texel_positions(head, fid, bary)[..., 1] - eye_height(head) - low) / (high - low), 0, 1)
    trust = np.where(seen, np.maximum(trust, TRUSTED * above * above * (3 - 2 * above)), 0)
    # The membrane runs through a blurred copy of everything seen (hair stays hair, skin skin, but a
    # grazing triangle's smear is gone); what was seen well keeps its own sharp texels on top.
    sigma = SEEN_BLUR * size / 512
    weight = cv2.GaussianBlur(seen.astype(np.float32), (0, 0), sigma)
    soft = cv2.GaussianBlur(uv.astype(np.float32) * seen[..., None], (0, 0), sigma) / np.maximum(weight, 1e-6)[..., None]
    filled = complete_texture(soft.round().clip(0, 255).astype(np.uint8), mask, head, smooth=True)
    t = np.clip(trust / TRUSTED, 0, 1)[..., None]
    return (t * uv + (1 - t) * filled).round().clip(0, 255).astype(np.uint8), mask


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
    inside = cv2.distanceTransform((mask > 0).astype(np.uint8), cv2.DIST_L2, 5)
    t = slant * np.clip(inside / rim, 0, 1) * (mask > 0)
    return cv2.GaussianBlur(t, (0, 0), rim / 2) * (mask > 0)


def build_bust(image: np.ndarray, landmarks_px: np.ndarray, head, views=None, face_size: int = 512,
               calibration=None, meta: dict | None = None):
    """The BustModel for a subject: the shell from their best photo (`image` + its landmarks in image
    pixels) and the face texture from `views` (default: that photo alone)."""
    from assets.artifacts import BustModel

    shell = lift_person(image, landmarks_px, head)
    views = views or [(image, landmarks_px, 1.0)]
    tex, seen = detailed_face_texture(views, head, face_size, calibration)
    x0, y0, x1, y1 = shell["box"]
    info = {"photo_pose": [round(float(x), 5) for x in shell["pose"]], "photo_size": list(image.shape[:2][::-1]),
            "segment_box": [x0, y0, x1, y1], "views": len(views), **(meta or {})}
    return BustModel(vertices=shell["vertices"], faces=shell["faces"], uvs=shell["uvs"], follow=shell["follow"],
                     texture=shell["texture"], face_texture=tex, face_detail=seen,
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
