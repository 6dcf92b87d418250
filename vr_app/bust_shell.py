"""The person's hair and upper body (a BustModel shell) under the rig, and the detailed face texture.

The shell hangs under the rig's root; each vertex blends between staying put (shoulders) and
following the head's pivot (hair), by the weight the fitter stored, so the hair turns with the
head and the collar stays on the shoulders with no tear between them.
"""

from __future__ import annotations

import numpy as np
from panda3d.core import (AlphaTestAttrib, DepthWriteAttrib, Geom, GeomTriangles, Material, NodePath, RenderState,
                          SamplerState, Texture, TransparencyAttrib)

from assets.blend import smoothstep
from assets.artifacts import BustModel
from scenes.geom import MeshGeom, to_panda
from scenes.panda_textures import pow2

BLACK_LEVEL = 16.0  # a generator texel darker than this in every channel counts as empty
EDGE_SOFT = 0.025  # of the frame's side: how gradually frame and base change over where the frame ends
SIDE_FROM, SIDE_FULL = 15.0, 30.0  # degrees off the face's front over which a side texture is blended in
SIDE_STEPS = 32  # the blend moves in steps of 1/SIDE_STEPS (a still viewer composes nothing new)
# The shell's refilled sides come in sooner: a texel its photo saw at n.v 0.2 (the trust threshold) is seen
# 1.5x as squarely from 5 degrees further round, 2.6x from 20 (its photo pixels stretched into streaks)
SHELL_SIDE_FROM, SHELL_SIDE_FULL = 5.0, 20.0
SIDE_HOLD = 0.2  # degrees: a view this close to one that shows the current blend keeps it
SOCLE_BOTTOM = 0.48  # metres below the eyes where a bust's socle ends (the plinth under it)
SOCLE_STONE = (0.52, 0.49, 0.45, 1.0)
SKIN_MATERIAL = dict(specular=(0.03, 0.03, 0.03, 1), shininess=8)
DUAL_OPAQUE_LEVEL = 252 / 256  # Panda's M_dual: texels at least this opaque are drawn in its opaque pass
OPAQUE_MIP = 4  # a face counts as opaque when its texels stay fully opaque down to this mipmap level (1/16)


def panda_rows(rgba: np.ndarray) -> np.ndarray:
    """RGBA [H,W,4] uint8 (top row first) as a texture's RAM image holds it: power-of-two sides, bottom row
    first, BGRA (`Texture.set_ram_image` takes it as it is: no channel swap, ~7x faster than set_ram_image_as)."""
    import cv2

    return cv2.cvtColor(cv2.flip(np.ascontiguousarray(pow2(rgba)), 0), cv2.COLOR_RGBA2BGRA)  # PIL takes RGBA arrays


def rgba_texture(rgba: np.ndarray, name: str) -> Texture:
    """A mipmapped RGBA texture from [H,W,4] uint8 (top row first), power-of-two sides."""
    return rows_texture(panda_rows(rgba), name)


def rows_texture(rows: np.ndarray, name: str) -> Texture:
    """A mipmapped, clamped RGBA texture holding `rows` (laid out as `panda_rows` gives them)."""
    ph, pw = rows.shape[:2]
    tex = Texture(name)
    tex.setup_2d_texture(pw, ph, Texture.T_unsigned_byte, Texture.F_rgba8)
    tex.set_ram_image(rows)
    tex.set_minfilter(SamplerState.FT_linear_mipmap_linear)
    tex.set_magfilter(SamplerState.FT_linear)
    tex.set_wrap_u(SamplerState.WM_clamp)
    tex.set_wrap_v(SamplerState.WM_clamp)
    return tex


def opaque_faces(alpha: np.ndarray, uvs: np.ndarray, faces: np.ndarray, level: int = OPAQUE_MIP) -> np.ndarray:
    """[F] bool: faces whose every texel that (bi)linear filtering can read, at mipmap levels 0..`level`,
    is fully opaque in `alpha` [H,W] uint8 (top row first, as uploaded). Each level's texel averages only
    base texels in its own block, so a face whose UV box, widened to whole level-`level` blocks plus one
    block each side (the bilinear neighbour), holds no alpha < 255 samples alpha 1 at every such level."""
    h, w = alpha.shape
    s = float(2 ** level)
    uv = np.asarray(uvs, np.float64)[faces]  # [F,3,2]
    x = uv[..., 0] * w  # texel coordinates, rows from the top (the upload flips rows, v up)
    y = (1.0 - uv[..., 1]) * h

    def span(c: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
        lo = (np.floor(c.min(1) / s - 0.5) * s).astype(np.int64)
        hi = ((np.floor(c.max(1) / s - 0.5) + 2) * s).astype(np.int64)  # exclusive
        return np.clip(lo, 0, size), np.clip(hi, 0, size)

    x0, x1 = span(x, w)
    y0, y1 = span(y, h)
    holes = np.zeros((h + 1, w + 1), np.int64)  # summed-area table of texels with alpha < 255
    holes[1:, 1:] = (alpha < 255).cumsum(0).cumsum(1)
    return (holes[y1, x1] - holes[y0, x1] - holes[y1, x0] + holes[y0, x0]) == 0


def pivot_motion(pivot: NodePath, root: NodePath, rest: np.ndarray) -> np.ndarray:
    """The pivot's motion since rest (its rest position `rest` [3] in the root's frame, no rotation),
    as a [4,4] row-vector matrix acting on points in the root's frame."""
    m = pivot.get_mat(root)
    cur = np.array([[m.get_cell(i, j) for j in range(4)] for i in range(4)], np.float32)
    out = cur.copy()
    out[3, :3] = cur[3, :3] - np.asarray(rest, np.float32) @ cur[:3, :3]
    return out


class ShellNode:
    """The shell's geometry under `root`; `follow(pivot)` after the head's pivot moved."""

    def __init__(self, bust: BustModel, root: NodePath, origin: np.ndarray):
        self.texture = bust.texture  # [H,W,4] as its photo's camera sees it
        self.sides = bust.shell_sides  # [2,H,W/2,3|4] or None: her right and left side as a turned view sees them
        # A face is drawn in the opaque pass only where every view shows it opaque: a side that hides texels
        # (its alpha) fades them out in the blended pass as the view turns.
        least = np.min([end[..., 3] for end in self.side_ends()], axis=0)
        opaque = opaque_faces(pow2(np.dstack([bust.texture[..., :3], least]))[..., 3], bust.uvs, bust.faces)
        # The vertices of the faces the blended pass draws come last, together: the software renderer
        # transforms and lights every vertex in a draw's index range, and the rim's faces use under half
        # of the shell's vertices. Same faces in the same order: the same pixels.
        in_rim = np.zeros(len(bust.vertices), bool)
        in_rim[bust.faces[~opaque]] = True
        self.order = np.argsort(in_rim, kind="stable")  # [V]: the shell's vertex i is the bust's order[i]
        rank = np.empty_like(self.order)
        rank[self.order] = np.arange(len(self.order))
        follow = np.asarray(bust.follow, np.float32)[self.order]
        self.base = to_panda(bust.vertices[self.order] - np.asarray(origin, np.float32))  # [V,3] in the root's frame
        self.moving = np.flatnonzero(follow > 1e-3)
        self.mesh = MeshGeom("bust-shell", self.base, rank[bust.faces], uvs=bust.uvs[self.order], dynamic=True)
        self.node = root.attach_new_node(self.mesh.node)
        self.node.set_texture(rgba_texture(bust.texture, "bust-shell"))
        self.side_weights = (0.0, 0.0)
        self._split(opaque)
        # A closed surface wound outwards: back faces are culled (half the software rasteriser's work).
        mat = Material("shell")
        mat.set_specular(SKIN_MATERIAL["specular"])
        mat.set_shininess(SKIN_MATERIAL["shininess"])
        self.node.set_material(mat)
        # The moving vertices' rest positions, normals and weights, gathered once (not every frame).
        self._rest = (self.base[self.moving], self.mesh.data[self.moving, 3:6], follow[self.moving, None])
        self._key: tuple | None = None
        self.socle = None if bust.meta.get("framed") else self._socle(root)

    def _split(self, opaque: np.ndarray) -> None:
        """Dual transparency by hand, drawing less: Panda's M_dual draws an object twice, its opaque texels
        (depth written) in the opaque bin, then all its texels blended (no depth write) in the transparent
        bin. Geom 0 is that first pass over every face, as before; geom 1 the second pass over only the
        faces that hold texels short of opaque. A fully opaque face's second pass drew nothing: its
        texels meet their own depth there, and the depth test is strict. Same pixels, ~40% less work."""
        geom = self.mesh.node.modify_geom(0)
        rim = geom.make_copy()
        faces = self.mesh.faces[~opaque]
        prim = GeomTriangles(Geom.UH_static)
        prim.set_index_type(Geom.NT_uint32)
        handle = prim.modify_vertices()
        handle.unclean_set_num_rows(faces.size)
        memoryview(handle).cast("B")[:] = faces.astype(np.uint32).tobytes()
        rim.set_primitive(0, prim)
        self.mesh.node.set_geom_state(0, RenderState.make(
            AlphaTestAttrib.make(AlphaTestAttrib.M_greater_equal, DUAL_OPAQUE_LEVEL),
            TransparencyAttrib.make(TransparencyAttrib.M_none)))
        self.mesh.node.add_geom(rim, RenderState.make(
            AlphaTestAttrib.make(AlphaTestAttrib.M_greater, 0.0), TransparencyAttrib.make(TransparencyAttrib.M_alpha),
            DepthWriteAttrib.make(DepthWriteAttrib.M_off)))
        self.opaque = opaque

    def _socle(self, root: NodePath) -> NodePath | None:
        """A stone socle under a shell that ends above a bust's usual cut (a picture cropped at the
        shoulders), so the bust stands on something instead of ending in the air."""
        import trimesh

        from scenes.geom import trimesh_geom

        z_low = float(self.base[:, 2].min())  # Panda z (up) of the shell's lowest point, eyes at 0
        if z_low <= -SOCLE_BOTTOM + 0.02:
            return None
        low = self.base[self.base[:, 2] < z_low + 0.03]
        width = float(np.ptp(low[:, 0])) if len(low) else 0.2
        depth = float(np.ptp(low[:, 1])) if len(low) else 0.12
        height = z_low + SOCLE_BOTTOM + 0.01  # overlaps the shell by a centimetre
        stem = trimesh.creation.cylinder(radius=0.5, height=1.0, sections=32)
        node = root.attach_new_node("bust-socle")
        part = node.attach_new_node(trimesh_geom("socle", stem, color=SOCLE_STONE))
        part.set_scale(0.55 * width, 0.7 * max(depth, 0.1), height)
        part.set_pos(float(low[:, 0].mean()) if len(low) else 0.0, float(low[:, 1].mean()) if len(low) else 0.0,
                     z_low + 0.01 - height / 2)
        foot = node.attach_new_node(trimesh_geom("socle-foot", stem, color=SOCLE_STONE))
        foot.set_scale(0.75 * width, 0.9 * max(depth, 0.1), 0.04)
        foot.set_pos(part.get_x(), part.get_y(), -SOCLE_BOTTOM + 0.02)
        return node

    def set_view(self, angle: float) -> bool:
        """The bust is seen from `angle` degrees off its front (as `side_weights`, from SHELL_SIDE_FROM to
        SHELL_SIDE_FULL); True when that changes the blend of `side_ends` the view sees (`blend_ends`)."""
        if self.sides is None:
            return False
        span = (SHELL_SIDE_FROM, SHELL_SIDE_FULL)
        weights = side_weights(angle, span)
        if weights == self.side_weights or holds(self.side_weights, angle, span):
            return False
        self.side_weights = weights
        return True

    def side_ends(self) -> list[np.ndarray]:
        """[H,W,4] uint8 textures the views' blends run between: as photographed (from the front), and,
        when the bust has refilled sides, with her right's and her left's front refilled in full (and its
        alpha as that side shows it, where the sides carry one)."""
        ends = [self.texture]
        if self.sides is not None:
            w = self.texture.shape[1] // 2
            for side in self.sides:
                rgba = self.texture.copy()
                rgba[:, :w, :side.shape[-1]] = side
                ends.append(rgba)
        return ends

    def follow(self, mat: np.ndarray) -> None:
        """Blend each vertex towards the head's motion; `mat` [4,4] is the pivot's motion in the root's
        frame relative to its rest (row-vector convention, translation in row 3)."""
        key = tuple(np.round(mat.reshape(-1), 6))
        if key == self._key:
            return
        self._key = key
        base, n, w = self._rest
        moved = base @ mat[:3, :3] + mat[3, :3]
        # Normals turn with their vertices (blended like them): no per-frame recomputation over the
        # whole shell, which cost as much as the rest of the bust's update.
        turned = n + w * (n @ mat[:3, :3] - n)
        sq = turned * turned  # the length as np.linalg.norm sums it, a quarter of its time
        length = np.sqrt(sq[:, 0] + sq[:, 1] + sq[:, 2])[:, None]
        self.mesh.update_rows(self.moving, base + w * (moved - base), turned / np.maximum(length, 1e-9))
        self.mesh.node.modify_geom(1).set_vertex_data(self.mesh.vdata)  # the rim shares the new vertices


def blend_ends(ends: list[np.ndarray], weights: tuple[float, float]) -> np.ndarray:
    """`ends`[0] mixed towards `ends`[1] (her right) or `ends`[2] (her left) by `weights` (`side_weights`: one
    side at a time), all uint8 arrays of one shape. One pass in uint8 (a few ms for the 1024x2048 shell, where
    a float blend, delighting and a new texture at every step of a turning view stalled the frame ~0.1 s)."""
    import cv2

    for k, weight in enumerate(weights):
        if weight > 0 and len(ends) > 1 + k:
            return cv2.addWeighted(ends[0], 1.0 - weight, ends[1 + k], weight, 0.0)
    return ends[0]


def holds(weights: tuple[float, float], angle: float, span=(SIDE_FROM, SIDE_FULL)) -> bool:
    """True when `angle` lies within SIDE_HOLD of an angle that shows the blend `weights` (`side_weights`):
    a viewer hovering on a step's edge would recompose every other frame."""
    return any(side_weights(a, span) == weights for a in (angle - SIDE_HOLD, angle + SIDE_HOLD))


def side_weights(angle: float, span=(SIDE_FROM, SIDE_FULL)) -> tuple[float, float]:
    """How much of the bust's two side textures (her right, her left) a view shows that sees the
    face from `angle` degrees off its front (+ = from the subject's left, +x): none up to `span`[0]
    (SIDE_FROM), all from `span`[1] (SIDE_FULL), smoothly between, in steps of 1/SIDE_STEPS."""
    start, full = span

    def ramp(a: float) -> float:
        return round(float(smoothstep((a - start) / (full - start))) * SIDE_STEPS) / SIDE_STEPS

    return ramp(-angle), ramp(angle)


class DetailedStream:
    """A face TextureStream with the bust's sharp, completed texture underneath: where the detail
    mask is set the streamed (generator) frame gives the colour and expression and the bust's
    texture its fine detail; elsewhere (texels no photo saw) the completed texture shows.

    Seen turned (`set_view`), the bust's texture blends towards its side texture of the side the
    view sees (her turned pictures' texels there): the near side of the nose as she was seen turned,
    while from the front the sharp frontal texture shows unchanged."""

    def __init__(self, stream, bust: BustModel, gain: np.ndarray | None = None):
        import cv2

        self.stream = stream
        self.fps = stream.fps
        base = bust.face_texture.astype(np.float32)
        s = base.shape[0]
        fh = min(stream.frames.shape[1], s)
        # `gain` [S,S] (generation.face.delight) takes the capture's light out of what is shown, base and
        # generator change alike; the frames themselves stay as they were trained.
        gain = np.ones((s, s), np.float32) if gain is None else gain.astype(np.float32)
        self.size = s
        self.base = base * gain[..., None]  # [S,S,3]
        self.sides = (None if bust.side_textures is None
                      else (bust.side_textures.astype(np.float32) - base) * gain[..., None])  # [2,S,S,3]
        self.side_weights = (0.0, 0.0)
        # A single photo's sides are the front with what it saw edge-on refilled (no turned picture's
        # blotches to keep off the front): they come in as soon as the shell's refilled sides do.
        self.span = ((SHELL_SIDE_FROM, SHELL_SIDE_FULL) if bust.meta.get("side_views") == 0
                     else (SIDE_FROM, SIDE_FULL))
        self.shown = self.base  # the base as the current view sees it
        # The generator's change (frame - the base at the generator's resolution) is worked out at that
        # resolution and only then enlarged onto the base, which keeps the detail the generator's
        # resolution cannot carry (none when the frames are as sharp).
        self.low = cv2.resize(base, (fh, fh), interpolation=cv2.INTER_AREA) if fh < s else base.copy()
        w = cv2.GaussianBlur(bust.face_detail.astype(np.float32) / 255.0, (0, 0), s / 128)
        w = np.clip(w, 0, 1)
        w = w * gain
        self.weight = cv2.resize(w, (fh, fh), interpolation=cv2.INTER_AREA) if fh < s else w  # [fh,fh]
        self._cache: tuple | None = None

    @property
    def frames(self) -> np.ndarray:
        return self.stream.frames

    def __len__(self) -> int:
        return len(self.stream)

    def index(self, t: float):
        return self.stream.index(t)

    def set_view(self, angle: float) -> bool:
        """The face is seen from `angle` degrees off its front (+ = from the subject's left); True when
        that changes what `at` gives."""
        weights = side_weights(angle, self.span) if self.sides is not None else (0.0, 0.0)
        # a viewer hovering on a step's edge would recompose every other frame: move on by a clear margin
        if weights == self.side_weights or self._holds(angle):
            return False
        self.side_weights = weights
        self.shown = self.base
        if any(weights):
            self.shown = self.base.copy()
            for w, side in zip(weights, self.sides):
                if w > 0:
                    self.shown += w * side
        self._cache = None
        return True

    def _holds(self, angle: float) -> bool:
        return holds(self.side_weights, angle, self.span)

    def at(self, t: float) -> np.ndarray:
        import cv2

        key = self.stream.index(t)
        key = (key[0], key[1], round(key[2], 2))
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        frame = self.stream.at(t)  # [h,h,3] uint8
        # Texels the generator left black (never seen in its training data) come from the base too,
        # and so does a rim of a few texels along their edge (filtering mixed black into it), with a
        # soft change-over: no line where the generator's face ends.
        sigma = max(1.0, EDGE_SOFT * frame.shape[0])
        k = 2 * int(np.ceil(2 * sigma)) + 1  # the blurred weight reaches ~0 at the empty region's edge
        brightest = np.maximum(np.maximum(frame[..., 0], frame[..., 1]), frame[..., 2])  # 8x numpy's max(axis=-1)
        present = cv2.erode((brightest > BLACK_LEVEL).astype(np.uint8), np.ones((k, k), np.uint8))
        present = cv2.GaussianBlur(present.astype(np.float32), (0, 0), sigma)
        fh = self.low.shape[0]
        if frame.shape[0] != fh:
            frame = cv2.resize(frame, (fh, fh), interpolation=cv2.INTER_AREA)
            present = cv2.resize(present, (fh, fh), interpolation=cv2.INTER_AREA)
        change = cv2.multiply(cv2.subtract(frame.astype(np.float32), self.low),
                              cv2.merge([cv2.multiply(self.weight, present)] * 3))
        if fh != self.size:
            change = cv2.resize(change, (self.size, self.size), interpolation=cv2.INTER_LINEAR)
        rgb = cv2.add(self.shown, change)
        rgb = np.clip(rgb, 0, 255, out=rgb).astype(np.uint8)  # in place: no third float image
        self._cache = (key, rgb)
        return rgb
