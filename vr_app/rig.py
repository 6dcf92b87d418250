"""The living bust: the subject's head mesh following the expression codes, the streamed face
texture, eyeballs that follow gaze, and a neck and shoulders so it is never a floating mask.

Coordinates: the HeadModel is +x subject's left, +y up, +z out of the face; Panda3D is
Z up. The bust is built facing -Y (towards a visitor standing on -Y looking +Y), so head
(x, y, z) maps to Panda (x, -z, y). The rig's root sits at the midpoint between the eyes.
Deformation rewrites the vertex array each frame (works on the software renderer too).
"""

from __future__ import annotations

import numpy as np
import trimesh
from panda3d.core import Material, NodePath

from assets import expression
from assets import landmarks as L
from assets.artifacts import BustModel, ExpressionTrack, HeadModel
from assets.mesh import inside_polygon, vertex_normals
from generation.face.delight import Delighting, apply_gain, delight, headroom, surface_gain
from scenes.geom import MeshGeom, from_panda, to_panda, trimesh_geom
from scenes.panda_textures import TextureStream, make_texture, set_texture_image

from .bust_shell import DetailedStream, ShellNode, blend_ends, panda_rows, pivot_motion, rows_texture
from .eyes import (IRIS_RADIUS_M, ball_normals, catchlight, catchlight_direction, catchlight_shown, clear_of_lids,
                   closing_shade, eye_texture, eyeball, lid_band, lid_band_half_width, lid_band_texture, order_eye,
                   socket, socket_half_width, texel_xy)
from .lids import BLINK, ClosingLids, LashLine, LidSurface, closing, lash_texture, lid_top
from .mouth import MouthInterior

EYE_RING = {"l": L.EYE_RING_L, "r": L.EYE_RING_R}
IRIS = {"l": L.EYE_L["iris"], "r": L.EYE_R["iris"]}
IRIS_RING = {"l": L.EYE_L["iris_ring"], "r": L.EYE_R["iris_ring"]}
MOUTH = (L.LIP_UPPER_INNER, L.LIP_LOWER_INNER)
GAZE_DEGREES = 30.0
GAZE = {side: (expression.index(f"gaze_yaw_{side}"), expression.index(f"gaze_pitch_{side}")) for side in ("l", "r")}


def eye_openings(head: HeadModel) -> dict[str, dict]:
    """Per eye: ring of vertex ids, iris vertex position and opening width (head coords)."""
    out = {}
    for side, ring_ids in EYE_RING.items():
        ring = head.landmark_vertices[list(ring_ids)]
        pts = head.vertices[ring]  # [16,3]
        width = float(np.ptp(pts[:, 0]))
        area = 0.5 * abs(np.dot(pts[:, 0], np.roll(pts[:, 1], 1)) - np.dot(pts[:, 1], np.roll(pts[:, 0], 1)))
        if width < 1e-3 or area < 1e-6 or len(set(ring.tolist())) < 6:
            continue
        out[side] = {"ring": ring, "iris": head.vertices[head.landmark_vertices[IRIS[side]]], "width": width,
                     "ring_z": float(pts[:, 2].mean())}
    return out


def cut_eye_holes(head: HeadModel, openings: dict[str, dict]) -> np.ndarray:
    """Faces [F',3] without those inside the eye openings, so the eyeballs show through."""
    faces = head.faces
    centroids = head.vertices[faces].mean(axis=1)  # [F,3]
    keep = np.ones(len(faces), dtype=bool)
    for eye in openings.values():
        ring = head.vertices[eye["ring"]]
        front = centroids[:, 2] > ring[:, 2].min() - 0.01  # ignore the back of the head
        keep &= ~(front & inside_polygon(centroids[:, :2], ring[:, :2]))
    return faces[keep]


def _sample(texture: np.ndarray, uv: np.ndarray, radius: int = 3) -> np.ndarray:
    """Mean colour of an RGB texture [H,W,3] around one uv (origin bottom-left)."""
    h, w, _ = texture.shape
    x = int(np.clip(uv[0], 0, 1) * (w - 1))
    y = int(np.clip(1 - uv[1], 0, 1) * (h - 1))
    patch = texture[max(0, y - radius):y + radius + 1, max(0, x - radius):x + radius + 1]
    return patch.reshape(-1, 3).mean(axis=0)


def skin_tone(head: HeadModel, texture: np.ndarray) -> np.ndarray:
    """Median skin colour from the cheeks/forehead landmarks, RGB 0..255 [3]."""
    ids = head.landmark_vertices[[*L.CHEEK_R, *L.CHEEK_L, *L.FOREHEAD_MID]]
    samples = np.stack([_sample(texture, head.uvs[i], 4) for i in ids])
    return np.median(samples, axis=0)


def seam_weld(head: HeadModel) -> np.ndarray:
    """For each vertex [V], the first vertex at its position: the UV layout's copies (face oval and
    skull, the crown's seam) share one normal, so the light shows no line where the islands meet.
    The mouth pocket's rim keeps its own: the lips' edge turns into the mouth there."""
    _, first, inverse = np.unique(np.round(head.vertices, 7), axis=0, return_index=True, return_inverse=True)
    weld = first[inverse.reshape(-1)]
    pocket = head.meta.get("layout", {}).get("mouth_pocket")
    if pocket:
        weld[pocket[0]:pocket[1]] = np.arange(pocket[0], pocket[1])
    return weld


def rig_origin(head: HeadModel, openings: dict | None = None) -> np.ndarray:
    """Head coordinates of the rig's root: the midpoint between the eyes, [3]."""
    openings = eye_openings(head) if openings is None else openings
    eyes_mid = (np.mean([o["iris"] for o in openings.values()], axis=0) if openings
                else head.vertices[head.landmark_vertices[L.NOSE_BRIDGE]])
    return eyes_mid.astype(np.float32)


class HeadRig:
    """A bust under `parent`; call `update(t)` every frame with the playback time in seconds."""

    def __init__(self, head: HeadModel, parent: NodePath, texture: TextureStream,
                 track: ExpressionTrack | None = None, clothing=(0.32, 0.31, 0.38), bust: BustModel | None = None,
                 delit: bool = True):
        self.head = head
        self.track = track
        self.bust = bust
        # The capture's light divided out of the bust's face where the scene lights it again; worked
        # out when first shown so (a living portrait, which keeps its photo's light, never needs it).
        self.light = None
        self.delit = delit  # False where the face must match its photo's light (the living portrait)
        self.view_angle = 0.0  # degrees off the face's front the face is seen from (`set_viewer`)
        self.stream = self._detailed(texture)
        texture = self.stream
        first = texture.at(0.0)  # [H,W,3]
        self.openings = eye_openings(head)
        self.origin = rig_origin(head, self.openings)  # head coords of the rig's root
        verts = head.vertices - self.origin
        self.has_neck = bool(head.regions.get("neck"))  # the mesh carries its own neck down to its lowest ring
        bottom = float(verts[:, 1].min())
        face_ids = head.landmark_vertices[[L.CHIN, L.FOREHEAD]]
        chin = float(verts[face_ids[0], 1]) if self.has_neck else bottom
        back = float(verts[:, 2].min())
        centre_z = 0.5 * (float(verts[:, 2].max()) + back)
        if "pivot" in head.meta:  # where the fitter says the head turns (top of the neck)
            self.neck_point = np.asarray(head.meta["pivot"], np.float32) - self.origin
        else:
            self.neck_point = np.array([0.0, chin + 0.03, centre_z - 0.01], np.float32)  # head coords, rig-relative

        self.root = parent.attach_new_node("bust")
        self.pivot = self.root.attach_new_node("neck-pivot")  # the head turns about the top of the neck
        self.pivot.set_pos(*to_panda(self.neck_point))
        self._base = to_panda(verts - self.neck_point)  # [V,3] relative to the pivot
        self._shapes = to_panda(head.blendshapes)  # [E,V,3]
        self._pairs = None if head.pair_shapes is None else to_panda(head.pair_shapes)  # [P,V,3]
        faces = cut_eye_holes(head, self.openings)
        pocket = head.meta.get("layout", {}).get("mouth_pocket")
        if pocket:  # the photo-textured pocket gives way to teeth, tongue and a cavity
            faces = faces[~((faces >= pocket[0]) & (faces < pocket[1])).all(axis=1)]
        self.mesh = MeshGeom("head", self._base, faces, uvs=head.uvs, dynamic=True)
        self._weld = seam_weld(head)
        self._weld_faces = self._weld[faces]
        self.head_np = self.pivot.attach_new_node(self.mesh.node)
        self.texture = make_texture(first, "face", mipmap=False)
        self.head_np.set_texture(self.texture)
        mat = Material("skin")  # no ambient/diffuse: the vertex colour (white) x texture is used on every backend
        mat.set_specular((0.08, 0.07, 0.06, 1))
        mat.set_shininess(12)
        self.head_np.set_material(mat)
        self.head_np.set_two_sided(True)
        self._faces = faces  # [F,3] the head's faces drawn at rest

        self.eyes: dict[str, NodePath] = {}
        self.sockets: dict[str, NodePath] = {}
        self.catchlights: dict[str, NodePath] = {}  # the software path's highlights (GL: the shader's)
        self.lid_bands: dict[str, NodePath] = {}  # the lashes and lid rims as photographed, in front of the balls
        self._balls: dict[str, NodePath] = {}
        # side: (opening, ball radius, socket card's half side, lid band's half side, fitted eye) to cut its
        # textures again
        self._eye_cuts: dict[str, tuple[dict, float, float, float, dict]] = {}
        # delit?: side: (ball, card, lid band) images
        self._eye_images: dict[bool, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
        self._bands_shown: dict[str, np.ndarray] = {}  # side: the lid band's image shown now
        self.lash_lines: dict[str, LashLine] = {}  # her lash line, down with each closing upper lid
        self.lid_surfaces: dict[str, LidSurface] = {}  # each closing upper lid, in place of the head's
        self._lid_faces: dict[str, np.ndarray] = {}  # side: rows of the head's faces its lid surface covers
        self._closed: tuple[str, ...] = ()  # the sides whose lid surface shows (their head faces hidden)
        self._shown_face = {}  # delit?: the face texture the eyes' parts are cut from
        fitted_eyes = head.meta.get("eyes", {})
        eye_source = first if bust is None else bust.face_texture  # the sharp still, not a generator frame
        photographed = {}  # side: (ball, card, lid band) images as cut from the photographed face
        for k, (side, eye) in enumerate(self.openings.items()):
            r = float(fitted_eyes.get(side, {}).get("radius", 0.43 * eye["width"]))
            ball_texture = self._eye_texture(eye_source, side, eye, r, fitted_eyes.get(side, {}))
            ball = eyeball(f"eye_{side}", r, ball_texture)
            self._balls[side] = ball
            anchor = self.pivot.attach_new_node(f"eye-{side}")
            # The eyeball's front sits just behind the lid ring, so closed lids always cover it.
            centre = eye["iris"].copy()
            centre[2] = min(centre[2], eye["ring_z"]) - r - 0.0005
            anchor.set_pos(*to_panda(centre - self.origin - self.neck_point))
            ball.reparent_to(anchor)
            self.eyes[side] = anchor
            outline = self.head.vertices[eye["ring"], :2] - eye["iris"][:2]
            nasal = _nasal(eye)
            half = socket_half_width(outline)
            card_texture = self._eye_texture(eye_source, side, eye, half, fitted_eyes.get(side, {}), card=True)
            band_half = lid_band_half_width(outline)
            band_texture = self._eye_texture(eye_source, side, eye, r, fitted_eyes.get(side, {}), band=band_half)
            self._eye_cuts[side] = (eye, r, half, band_half, fitted_eyes.get(side, {}))
            photographed[side] = (ball_texture, card_texture, band_texture)
            self._bands_shown[side] = band_texture
            card = socket(f"eye-socket-{side}", outline, nasal, card_texture)
            card.reparent_to(self.pivot)
            card.set_pos(*to_panda(centre - self.origin - self.neck_point))
            self.sockets[side] = card
            iris_r = float(fitted_eyes.get(side, {}).get("iris_radius", IRIS_RADIUS_M))
            # On the card: they stay put while the ball turns, and its closing shade dims them too.
            self.lid_bands[side] = lid_band(f"eye-lid-band-{side}", outline, r, iris_r, band_texture)
            self.lid_bands[side].reparent_to(card)
            # where the photo shows it, away from the lids' glints
            spot = catchlight_direction(ball_texture, 0.8 * iris_r / r, clear_of_lids(outline, r, iris_r))
            self.catchlights[side] = catchlight(f"eye-catchlight-{side}", r, spot)
            self.catchlights[side].reparent_to(card)
            order_eye(k, catchlight=self.catchlights[side], band=self.lid_bands[side], ball=ball, socket=card)

        skin = np.asarray(head.meta["skin_rgb"], np.float32) if "skin_rgb" in head.meta else skin_tone(head, first)
        if bust is not None:
            self._eye_images[False] = photographed
            self._shown_face[False] = eye_source
            if self.delit:
                self._show_eyes()
        iris_radii = {side: float(fitted_eyes.get(side, {}).get("iris_radius", IRIS_RADIUS_M))
                      for side in self.openings}
        lash_hang = float(head.meta.get("lash_hang", 0.0))
        self._hung = lash_hang > 0.0  # lashes hang over a closing eye
        self.lids = ClosingLids(head.uvs, head.vertices, self.openings, eye_source, skin, iris_radii, lash_hang)
        for side, (line, top, foot) in self.lids.lash.items():
            band_half = self._eye_cuts[side][3]
            self.lash_lines[side] = LashLine(f"eye-lash-line-{side}", head.vertices, line, top, foot,
                                             self.openings[side]["iris"][:2], band_half,
                                             lash_texture(self._bands_shown[side], self.lids.skin_luma, self._hung),
                                             self.lids.hang[side], self.lids.lower[side])
            self.lash_lines[side].node.reparent_to(self.pivot)
            rows = np.where(np.isin(faces, self.lids.ids[side]).any(axis=1))[0]
            top = lid_top(faces[rows], line)
            if top is not None:
                ball = (np.array(self.eyes[side].get_pos(self.pivot), np.float32), self._eye_cuts[side][1])
                surface = LidSurface(f"lid-{side}", head.uvs, faces[rows], line, top, float(self.lids.shift[side][1]),
                                     ball, self._shown_face.get(self.delit, eye_source))
                surface.node.reparent_to(self.pivot)
                surface.node.set_material(mat, 1)  # her skin, as the head's
                self.lid_surfaces[side] = surface
                self._lid_faces[side] = rows
        self.inside = None
        if pocket:
            face_only = faces[(faces < L.N_MESH).all(axis=1)]  # the face surface the cavity fastens to
            self.inside = MouthInterior(head, self.pivot, self.origin + self.neck_point, face_only)
        mouth = head.vertices[head.landmark_vertices[list(MOUTH)]].mean(axis=0)
        self.mouth = self.pivot.attach_new_node("mouth")  # the voice comes from here
        self.mouth.set_pos(*to_panda(mouth - self.origin - self.neck_point))
        self.shell = None
        if bust is None:
            self._build_body(skin / 255.0, clothing, bottom, centre_z)
        else:  # the person's own hair, collar and shoulders
            self.shell = ShellNode(bust, self.root, self.origin)
            self._shell_shown = {}  # delit?: (the ends of the shell's side blends as texture rows, the texture)
            self._show_shell()
        self._code = None
        self._frame = (-1, -1, -1.0)
        self.update(0.0)

    def _eye_texture(self, face: np.ndarray, side: str, eye: dict, radius: float, fitted: dict,
                     band: float | None = None, card: bool = False) -> np.ndarray:
        """The person's own eye from the face texture, for the eyeball of `side` (of `radius`), its socket
        card (`card`, covering `radius`) or its lid band (covering `band` about the same axis)."""
        lv = self.head.landmark_vertices
        ids = np.concatenate([eye["ring"], lv[[IRIS[side], *IRIS_RING[side]]]])
        xy = self.head.vertices[:, :2]
        cut = (xy[ids], self.head.uvs[ids], xy[eye["ring"]], eye["iris"][:2], eye["iris"][:2])
        iris_radius = float(fitted.get("iris_radius", IRIS_RADIUS_M))
        if band is not None:
            return lid_band_texture(face, *cut, band, radius, iris_radius)
        return eye_texture(face, *cut, radius, iris_radius, card_nasal=_nasal(eye) if card else None)

    def _build_body(self, skin: np.ndarray, clothing, bottom: float, centre_z: float) -> None:
        """Neck (skin tone, unless the mesh has one) and shoulders with a simple garment, static under the root.

        `bottom` is the mesh's lowest point: the chin for a face-and-skull mesh, the neck's end otherwise.
        """
        if self.has_neck:
            chin = bottom + 0.105  # sink the mesh's neck into the collar
        else:
            chin = bottom
            neck = trimesh.creation.cylinder(radius=0.052, height=0.16, sections=24)
            neck_np = self.root.attach_new_node(trimesh_geom("neck", neck, color=(*skin, 1)))
            neck_np.set_pos(*to_panda(np.array([0, chin - 0.02, centre_z - 0.02])))
        shoulders = trimesh.creation.capsule(height=0.25, radius=0.07, count=(24, 24))
        sh = self.root.attach_new_node(trimesh_geom("shoulders", shoulders, color=(*clothing, 1)))
        sh.set_hpr(0, 0, 90)  # capsule axis along X (shoulder to shoulder)
        sh.set_scale(1.0, 1.1, 1.0)
        sh.set_pos(*to_panda(np.array([0, chin - 0.115, centre_z - 0.03])))
        chest = trimesh.creation.cylinder(radius=0.16, height=0.30, sections=32)
        ch = self.root.attach_new_node(trimesh_geom("chest", chest, color=(*clothing, 1)))
        ch.set_scale(1.15, 0.68, 1.0)
        ch.set_pos(*to_panda(np.array([0, chin - 0.26, centre_z - 0.04])))
        if not self.has_neck:  # a fitted neck carries the person's own collar in its texture
            collar = trimesh.creation.annulus(r_min=0.05, r_max=0.075, height=0.03, sections=32)
            co = self.root.attach_new_node(trimesh_geom("collar", collar, color=(0.85, 0.84, 0.80, 1)))
            co.set_pos(*to_panda(np.array([0, chin - 0.07, centre_z - 0.02])))

    def code_at(self, t: float) -> np.ndarray:
        return expression.neutral() if self.track is None else self.track.code_at(t)

    def set_code(self, code: np.ndarray) -> None:
        """Deform the mesh and turn the eyes for one code [E]."""
        code = np.asarray(code, dtype=np.float32)
        assert code.shape == (expression.E,), code.shape
        if self._code is not None and np.array_equal(code, self._code):
            return
        self._code = code.copy()
        verts = self._base + np.tensordot(self.head.shown_code(code), self._shapes, axes=1)
        if self._pairs is not None:
            verts += np.tensordot(self.head.pair_weights(code), self._pairs, axes=1)
        normals = vertex_normals(verts, self._weld_faces)[self._weld]
        self._show_lids(code)
        self.mesh.update_vertices(verts, normals)
        for side, lashes in self.lash_lines.items():
            lashes.update(verts, normals, float(code[BLINK[side]]))
        for side, lid in self.lid_surfaces.items():
            lid.update(verts, normals, closing(float(code[BLINK[side]])))
        if self.inside is not None:
            self.inside.update(verts)
        for side, anchor in self.eyes.items():
            yaw, pitch = GAZE[side]
            anchor.set_hpr(float(code[yaw]) * GAZE_DEGREES, -float(code[pitch]) * GAZE_DEGREES, 0)
            blink = float(code[BLINK[side]])
            shade = closing_shade(blink, self._hung)
            for part in (anchor, self.sockets[side]):
                part.set_color_scale(shade, shade, shade, 1)
            if catchlight_shown(blink):
                self.catchlights[side].show()
            else:
                self.catchlights[side].hide()

    def _show_lids(self, code: np.ndarray) -> None:
        """The head's own upper lids where open, each lid surface's faces hidden where it closes."""
        closed = tuple(side for side in self.lid_surfaces if closing(float(code[BLINK[side]])) > 0.0)
        if closed == self._closed:
            return
        self._closed = closed
        faces = self._faces.copy()
        for side in closed:
            faces[self._lid_faces[side]] = faces[self._lid_faces[side], :1]  # one vertex thrice: not drawn
        self.mesh.show_faces(faces)

    def set_stream(self, texture: TextureStream) -> None:
        """Another line's face frames (over the bust's detailed texture when there is one)."""
        self.stream = self._detailed(texture)
        self._frame = (-1, -1, -1.0)

    def set_viewer(self, camera: NodePath) -> None:
        """The bust is seen by `camera` (a view: the video's, the desktop window's; a headset's eyes share
        its head): a bust with side textures shows the side that camera sees of the face."""
        x, _, z = from_panda(np.array(camera.get_pos(self.head_np), np.float32))
        self.view_angle = float(np.degrees(np.arctan2(x, z)))
        if self.bust is not None and self.stream.set_view(self.view_angle):
            self._frame = (-1, -1, -1.0)
        if self.shell is not None and self.shell.set_view(self.view_angle):
            self._show_shell()

    @property
    def gain(self) -> np.ndarray | None:
        """[S,S] the delighting gain the bust's face is shown with; None where it keeps its photo's light."""
        return None if self.bust is None or not self.delit else self._capture_light().gain

    def _capture_light(self) -> Delighting:
        if self.light is None:
            self.light = delight(self.bust.face_texture, self.bust.face_detail, self.head)
        return self.light

    def _detailed(self, texture: TextureStream):
        """`texture` over the bust's detailed face (as the current view sees it), or itself without a bust."""
        if self.bust is None:
            return texture
        stream = DetailedStream(texture, self.bust, self.gain)
        stream.set_view(self.view_angle)
        return stream

    def _show_shell(self) -> None:
        """The shell's texture as the current view sees it (its front blended towards the side the view sees
        turned: `ShellNode.side_ends`, `blend_ends`), with the light the face's delighting found taken out too
        where the face is delit (hair, ears, neck and shoulders were photographed in the same light: no seam
        where they meet). The blends' ends are delit and laid out once, when first shown; a turning view
        mixes them into the same texture."""
        if self.delit not in self._shell_shown:
            ends = self.shell.side_ends()
            if self.delit:
                bust = self.bust
                gain = surface_gain(self._capture_light(), bust.vertices, bust.faces, bust.uvs, bust.texture.shape[:2],
                                    self.head)
                ends = [np.dstack([apply_gain(end[..., :3], headroom(gain, end)), end[..., 3]]) for end in ends]
            rows = [panda_rows(end) for end in ends]
            self._shell_shown[self.delit] = (rows, rows_texture(rows[0], "bust-shell-delit" if self.delit else "bust-shell"))
        rows, texture = self._shell_shown[self.delit]
        texture.set_ram_image(blend_ends(rows, self.shell.side_weights))
        self.shell.node.set_texture(texture, 1)

    def _show_eyes(self) -> None:
        """The eyeballs and their sockets cut from the bust's face as it is shown: delit where the face is
        (cut from the photographed face, their whites kept the capture's light beside delit lids)."""
        if self.bust is None:
            return
        if self.delit not in self._eye_images:
            face = self.bust.face_texture
            if self.delit:
                face = apply_gain(face, self.gain)  # as the face shows it (DetailedStream)
            self._shown_face[self.delit] = face
            self._eye_images[self.delit] = {
                side: (self._eye_texture(face, side, eye, r, fitted), self._eye_texture(face, side, eye, half, fitted, card=True),
                       self._eye_texture(face, side, eye, r, fitted, band=band_half))
                for side, (eye, r, half, band_half, fitted) in self._eye_cuts.items()}
            if self.delit:
                self._delight_balls()
        for side, (ball, card, band) in self._eye_images[self.delit].items():
            set_texture_image(self._balls[side].get_texture(), ball)
            set_texture_image(self.sockets[side].get_texture(), card)
            set_texture_image(self.lid_bands[side].get_texture(), band)
            self._bands_shown[side] = band
            if side in self.lash_lines:
                set_texture_image(self.lash_lines[side].node.get_texture(), lash_texture(band, self.lids.skin_luma, self._hung))
            if side in self.lid_surfaces:
                self.lid_surfaces[side].set_face(self._shown_face[self.delit])

    def _delight_balls(self) -> None:
        """The balls (and the lid bands' part over them) delit for the ball's own surface, not the face's: the
        face's gain across the eye is that of the lid skin's surface, which faces the camera, while the white
        it shows lies on the ball, turning away towards the corners. The capture lit that white less than
        the face's normals say, and the room shades it again by the ball's normals: delit as skin, the white
        was darkened twice (0.85/1.04 of the cheek in the lit room against her frames' 1.14/1.21)."""
        light, raw = self._capture_light(), self.bust.face_texture
        shown = self._eye_images[True]
        for side, (eye, r, half, band_half, fitted) in self._eye_cuts.items():
            ball, card, band = shown[side]
            outline = self.head.vertices[eye["ring"], :2] - eye["iris"][:2]
            iris_r = float(fitted.get("iris_radius", IRIS_RADIUS_M))
            photo = self._eye_texture(raw, side, eye, r, fitted)
            gain = light.gain_at(ball_normals(r, r, photo.shape[0]))
            xy = texel_xy(r, photo.shape[0])
            seen = inside_polygon(xy, outline).reshape(gain.shape)
            # What the lids hid has the seen white's colours (eye_texture), photographed in the light of the
            # white the photo saw: that white's gain, not the light on the hidden part's own surface.
            white = seen & (np.hypot(*xy.T) > iris_r).reshape(gain.shape)
            gain = np.where(seen, gain, np.median(gain[white]) if white.any() else 1.0)
            ball = apply_gain(photo, headroom(gain, photo))
            photo = self._eye_texture(raw, side, eye, r, fitted, band=band_half)
            on_ball = apply_gain(photo, headroom(light.gain_at(ball_normals(r, band_half, photo.shape[0])), photo))
            opening = inside_polygon(texel_xy(band_half, photo.shape[0]), outline).reshape(photo.shape[:2])
            shown[side] = (ball, card, np.where(opening[..., None], on_ball, band))

    def set_delighting(self, on: bool) -> None:
        """Show the bust with the capture's light taken out (for a lit scene, the default) or as
        photographed (unlit views that compare with the photos); the face's change takes effect at the
        next set_texture_time."""
        if self.bust is not None and on != self.delit:
            self.delit = on
            self.set_stream(self.stream.stream)
            if self.shell is not None:
                self._show_shell()
            self._show_eyes()

    def set_texture_time(self, t: float) -> None:
        """Stream the face texture: upload only when the blended frame changes."""
        key = self.stream.index(t)
        key = (key[0], key[1], round(key[2], 2))
        if key != self._frame:
            self._frame = key
            set_texture_image(self.texture, self.stream.at(t))

    def set_pose(self, pose: np.ndarray) -> None:
        """Head pose [6]: yaw, pitch, roll degrees, x, y, z offsets in metres (head coords)."""
        yaw, pitch, roll = (float(x) for x in pose[:3])
        self.pivot.set_hpr(yaw, -pitch, roll)
        self.pivot.set_pos(*(to_panda(self.neck_point + np.asarray(pose[3:6], np.float32))))
        if self.shell is not None:
            self.shell.follow(pivot_motion(self.pivot, self.root, to_panda(self.neck_point)))

    def update(self, t: float) -> None:
        self.set_code(self.code_at(t))
        self.set_texture_time(t)
        if self.track is not None:
            i = int(np.clip(round(t * self.track.fps), 0, len(self.track.pose) - 1))
            self.set_pose(self.track.pose[i])

    def face_points(self) -> np.ndarray:
        """Eight corners of the head's bounding box in the rig root's frame, [8,3] Panda coords.

        Computed from the vertex array we already hold: same box as Panda's get_tight_bounds, which
        walks the dynamic vertex data and cost ~10 ms a frame in the video loop.
        """
        m = self.head_np.get_mat(self.root)  # row-vector convention: p' = p @ M, translation in row 3
        mat = np.array([[m.get_cell(i, j) for j in range(4)] for i in range(4)], np.float32)
        pts = self.mesh.data[:, 0:3] @ mat[:3, :3] + mat[3, :3]  # [V,3] in the root's frame
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])], np.float32)


def _nasal(eye: dict) -> float:
    """The side along head x (+1 or -1) that the nose lies on from the eye `eye` (the nose lies at x = 0)."""
    return -1.0 if eye["iris"][0] > 0 else 1.0
