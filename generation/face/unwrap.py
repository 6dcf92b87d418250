"""Face texture in the head's UV space from one photo, with a visibility mask.

Per head and texture size the UV layout is rasterised once (texel -> triangle + barycentric)
and cached; per photo each texel's image position is the barycentric mix of its triangle's
projected corners, the image is sampled there with cv2.remap, and texels are masked when
they face away, are hidden behind nearer surface (a coarse z-buffer of the posed head),
fall outside the frame, or sit on closed eyes / a closed mouth.
"""

from __future__ import annotations

import numpy as np

from assets import expression
from .controls import SEM_NAMES, raw_measures
from .errors import GeometryError, check_landmarks
from .pose import fit_pose, project
from .raster import rasterize

_CACHE: dict = {}
GRAZING_NZ = 0.2  # texels seen this obliquely (normal . view) are too smeared to keep
HAIR_ABOVE_EYES = 0.03  # metres: unseen texels higher than this above the eyes are filled with the nearest hair
ZBUF_PX = 80  # the coarse visibility z-buffer spans the face with about this many pixels


def uv_raster(head, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Cached (face id [S,S] int32, -1 = unused texel; barycentrics [S,S,3]) of the UV layout.

    Row 0 is the top of the texture (v = 1), as images are stored.
    """
    key = (id(head), size)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is head:
        return hit[1], hit[2]
    xy = np.stack([head.uvs[:, 0] * size, (1 - head.uvs[:, 1]) * size], 1)
    fid, bary, _ = rasterize(xy, np.zeros(len(xy)), head.faces, size, size, cull_backfaces=False)
    if len(_CACHE) > 8:
        _CACHE.clear()
    _CACHE[key] = (head, fid, bary)
    return fid, bary


def face_normals_z(xyz: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Per-face normal z towards the camera (image-pixel coordinates, z < 0 nearer), [F]."""
    p = xyz[faces].astype(np.float64)
    n = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    return n[:, 2]  # y-down, z-into-screen axes: a front face (CW on screen) has n_z < 0


def posed_vertices(head, landmarks_px: np.ndarray, code: np.ndarray, pose: np.ndarray | None, frame: float,
                   snap: bool = False) -> np.ndarray:
    """Head vertices [V,3] in image pixels for this photo. With `snap`, the landmark vertices
    (and their copies) sit exactly on the detected landmarks, so the texture lands where the
    detector saw it; the rest of the head follows the fitted pose. The head takes the shape the
    data was fitted with for this code (`HeadModel.reconstruct`), the best reconstruction of the photo."""
    verts = head.reconstruct(code)
    if pose is None:
        pose = fit_pose(landmarks_px, verts[:478], frame)
    xyz = project(verts, pose, frame)
    if snap:  # x, y only: the depth stays the model's, so the z-buffer has one scale
        source = np.asarray(head.meta.get("source", np.arange(478)))
        has = source >= 0
        xyz[has, :2] = landmarks_px[source[has], :2]
        xyz[:478, :2] = landmarks_px[:, :2]
    return xyz


def unwrap(image: np.ndarray, landmarks_px: np.ndarray, head, code: np.ndarray, pose: np.ndarray | None = None,
           size: int = 256, snap: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(uv [size,size,3] uint8, mask [size,size] uint8 255 = seen) for one face in one image.

    landmarks_px: [478,3] in the pixels of `image`; pose (optional): [6] for that image with
    the image width as frame side (as `fit_pose(landmarks_px, ..., image.shape[1])` gives;
    for an aligned crop that is the crop's pose), fitted from the landmarks when omitted.
    By default texels are sampled where the fitted head (at `code`, `pose`) puts them, so
    rendering the texture on the head reproduces the photo (what the GAN and its evaluation
    need); `snap=True` samples at the detected landmarks instead, which is sharper per photo
    but off by the fit error (~1-2 px) when rendered.
    """
    import cv2

    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise GeometryError(f"image must be RGB uint8 [H,W,3], got {image.dtype} {list(image.shape)}")
    lm = check_landmarks(landmarks_px, batch=False)
    code = np.asarray(code, np.float32)
    if code.shape != (expression.E,) or not np.isfinite(code).all():
        raise GeometryError(f"expression code must be {expression.E} finite values, got shape {list(code.shape)}")
    h, w = image.shape[:2]
    xyz = posed_vertices(head, lm, code, pose, float(w), snap)  # [V,3] px
    fid, bary = uv_raster(head, size)
    used = fid >= 0
    f = _texel_corners(head, size, fid)  # [S,S,3] vertex ids
    pos = np.einsum("hwk,hwkc->hwc", bary, xyz[f])  # [S,S,3] image x, y, z per texel

    nz = face_normals_z(xyz, head.faces)  # [F]
    facing = -nz[np.maximum(fid, 0)] > GRAZING_NZ
    face_px = max(float(np.ptp(lm[:, 0])), float(np.ptp(lm[:, 1])), 1.0)
    k = ZBUF_PX / face_px
    zw, zh = max(int(np.ceil(w * k)), 1), max(int(np.ceil(h * k)), 1)
    _, _, zbuf = rasterize(xyz[:, :2] * k, xyz[:, 2], head.faces, zw, zh, cull_backfaces=True)
    zx = np.clip((pos[..., 0] * k).astype(np.int64), 0, zw - 1)
    zy = np.clip((pos[..., 1] * k).astype(np.int64), 0, zh - 1)
    tol = 0.06 * face_px  # about 1 cm of depth on a face
    unoccluded = pos[..., 2] <= zbuf[zy, zx] + tol
    in_frame = (pos[..., 0] >= 0) & (pos[..., 0] <= w - 1) & (pos[..., 1] >= 0) & (pos[..., 1] <= h - 1)
    mask = used & facing & unoccluded & in_frame & ~_hidden_parts(head, lm, fid, size)

    uv = cv2.remap(image, (pos[..., 0] - 0.5).astype(np.float32), (pos[..., 1] - 0.5).astype(np.float32), cv2.INTER_LINEAR,
                   borderMode=cv2.BORDER_REPLICATE)
    uv[~mask] = 0
    return uv, (mask * 255).astype(np.uint8)


def _texel_corners(head, size: int, fid: np.ndarray) -> np.ndarray:
    key = ("corners", id(head), size)
    hit = _CACHE.get(key)
    if hit is None or hit[0] is not head:
        hit = (head, head.faces[np.maximum(fid, 0)])
        _CACHE[key] = hit
    return hit[1]


def _hidden_parts(head, lm: np.ndarray, fid: np.ndarray, size: int) -> np.ndarray:
    """Texels on a closed eye or in the mouth pocket of a closed mouth, [S,S] bool.

    Measured on this photo's landmarks (not the code, which is relative to the subject's
    neutral): an eye whose lid gap is under 8% of its width is closed; the mouth pocket is
    seen only when the inner lips are more than 5% of the eye distance apart.
    """
    key = ("parts", id(head), size)
    hit = _CACHE.get(key)
    if hit is None or hit[0] is not head:
        parts = {}
        for name in ("eye_l", "eye_r", "mouth_interior"):
            ids = np.zeros(len(head.vertices), bool)
            ids[head.regions.get(name, [])] = True
            in_face = np.all(ids[head.faces], axis=1)  # eye fill: rim + iris; pocket: its own copies
            parts[name] = np.where(fid >= 0, in_face[np.maximum(fid, 0)], False)
        _CACHE[key] = (head, parts)
    else:
        parts = hit[1]
    hidden = np.zeros(fid.shape, bool)
    opening = -raw_measures(lm)
    if opening[SEM_NAMES.index("blink_l")] < 0.08:
        hidden |= parts["eye_l"]
    if opening[SEM_NAMES.index("blink_r")] < 0.08:
        hidden |= parts["eye_r"]
    if -opening[SEM_NAMES.index("jaw_open")] < 0.05:
        hidden |= parts["mouth_interior"]
    return hidden


def complete_texture(uv: np.ndarray, mask: np.ndarray, head, smooth: bool = False) -> np.ndarray:
    """Fill never-seen texels from the nearest seen texels on the head's surface (in 3D, so
    skin under the chin comes from the jaw and neck, the crown from the hair at the hairline,
    and both sides of a UV seam get the same colour), so a single photo textures the whole
    head without black patches or a seam. The mouth interior is a dark red of its own.
    With `smooth`, below the crown a membrane through the seen texels instead (fill.harmonic_fill):
    no straight-edged patches where the nearest seen texel changes, at about a second's cost."""
    from scipy.spatial import cKDTree

    size = uv.shape[0]
    fid, bary = uv_raster(head, size)
    used = fid >= 0
    known = (mask > 0) & used
    img = uv.astype(np.float32)
    mouth = np.zeros(len(head.vertices), bool)
    mouth[head.regions.get("mouth_interior", [])] = True
    in_mouth = np.where(used, np.all(mouth[head.faces], 1)[np.maximum(fid, 0)], False) & ~known
    img[in_mouth] = (60, 25, 25)
    todo = used & ~known & ~in_mouth
    if known.any() and todo.any():
        corners = head.vertices[head.faces[np.maximum(fid, 0)]]  # [S,S,3,3]
        pos = np.einsum("hwk,hwkc->hwc", bary, corners)  # [S,S,3] surface point of each texel
        src = np.flatnonzero(known)
        step = max(1, len(src) // 40000)  # a sparser cloud keeps the query fast; colours stay local
        src = src[::step]
        tree = cKDTree(pos.reshape(-1, 3)[src])
        dist, idx = tree.query(pos.reshape(-1, 3)[np.flatnonzero(todo)], k=8)
        w = 1.0 / np.maximum(dist, 1e-4) ** 2
        colours = img.reshape(-1, 3)[src][idx]  # [U,8,3]
        img.reshape(-1, 3)[np.flatnonzero(todo)] = (w[..., None] * colours).sum(1) / w.sum(1, keepdims=True)
        if smooth:  # above the ears the nearest hair stays (the shell's hair lies on it); below, a membrane
            from .fill import eye_height, harmonic_fill

            crown = used & (pos[..., 1] > eye_height(head) + HAIR_ABOVE_EYES)
            img = harmonic_fill(img, known | (todo & crown), todo & ~crown, head, fid, bary).astype(np.float32)
        known = known | todo
    known = known | in_mouth
    img = _push_pull(img, known)
    # Texels outside every UV island take their nearest island texel's colour, so filtering at
    # an island's border never mixes in a foreign colour (a dark line along the face's edge).
    from .segment import fill_nearest

    return fill_nearest(img, used).clip(0, 255).astype(np.uint8)


def _push_pull(img: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Fill unknown pixels [H,W,C] from known ones by a masked image pyramid."""
    import cv2

    w = known.astype(np.float32)
    levels = [(img * w[..., None], w)]
    while min(levels[-1][1].shape) > 2:
        a, b = levels[-1]
        hh, ww = b.shape
        levels.append((cv2.resize(a, (max(ww // 2, 1), max(hh // 2, 1)), interpolation=cv2.INTER_AREA),
                       cv2.resize(b, (max(ww // 2, 1), max(hh // 2, 1)), interpolation=cv2.INTER_AREA)))
    a, b = levels[-1]
    filled = a / np.maximum(b, 1e-6)[..., None]
    for a, b in reversed(levels[:-1]):
        hh, ww = b.shape
        up = cv2.resize(filled, (ww, hh), interpolation=cv2.INTER_LINEAR)
        filled = np.where(b[..., None] > 1e-3, a / np.maximum(b, 1e-6)[..., None], up)
        filled = b[..., None].clip(0, 1) * (a / np.maximum(b, 1e-6)[..., None]) + (1 - b[..., None].clip(0, 1)) * up
    out = img.copy()
    out[~known] = filled[~known]
    return out
