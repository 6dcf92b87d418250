"""Our own GLSL shading for the GL displays (desktop window, headset, EGL offscreen).

Per-pixel lighting from the scene's lights, computed as the software renderer computes it per vertex
(p3tinydisplay draws the videos and the likeness benchmark, so every display shows the same face and
room), plus what only GL draws: a shadow-map shadow from the key light (a real depth pass,
percentage-closer filtered so its edge is soft) and eyes with a moist specular highlight.

Why our own: Panda3D's shader generator (`setShaderAuto`) fails under p3headlessgl here. The
software renderer (p3tinydisplay, used for videos) has no shaders at all and ignores the shader
attributes set here, drawing the same scene with fixed-function per-vertex lighting instead
(tests/display/test_shading.py checks both).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import resources

from panda3d.core import (LightAttrib, NodePath, PerspectiveLens, RenderState, Shader, ShaderAttrib, Spotlight,
                          Vec4)

SHADOW_MAP = 1024  # texels a side; the map covers the bust and the plinth around it
KEY_CONE = 50.0  # degrees of the shadow camera's view, centred on the bust


@dataclass(frozen=True)
class Surface:
    """The `surface` shader input: what GL adds to the software renderer's lighting of a material.

    Every surface also keeps its Material's own specular, as the software renderer draws it."""

    specular: float = 0.0  # strength of a highlight of GL's own (the eyes'), on top of the material's
    shininess: float = 1.0  # its Blinn-Phong exponent: higher is a smaller, wetter highlight
    shadowed: bool = True  # receives the key light's shadow
    penumbra: float = 1.0  # width of the shadow's soft edge, in units of the room's

    def vec(self) -> Vec4:
        return Vec4(self.specular, self.shininess, 0.0, self.penumbra if self.shadowed else 0.0)


# The room and the skin add nothing but the shadow: GL's own diffuse wrap on the skin, fill brighter
# from above and highlight on every surface made its face 4-11 % brighter and warmer than the
# video's and its walls 5-10 % darker (measured in round 12).
ROOM = Surface()
# Skin scatters light under its surface, so a shadow on it (the nose's on the cheek) has a wide,
# soft edge; with the room's narrow one it drew a hard band beside the nose at arm's length.
SKIN = Surface(penumbra=3.0)
# A small bright reflection of the key light: a moist eye. Eyes skip the shadow term: they sit just
# behind the lid ring, finer than the map's ~1 mm texels and ~6 mm soft edge, so lids and nose would
# put a blurred shadow over a catchlight that a real eye shows.
EYE = Surface(specular=1.6, shininess=180, shadowed=False)
# The lids' band in front of the ball (vr_app.eyes.lid_band: lashes and the wet lid rims as photographed):
# lit as the ball under it, without its highlight (lashes do not shine; as skin, its wrap and shadow drew
# the lower rim as an orange line beside the ball's white).
LID_BAND = replace(EYE, specular=0.0)


# The software path's catchlight discs (vr_app.eyes.catchlight) are not drawn here: the EYE surface's
# highlight is the light's own reflection. (The software renderer ignores shaders and draws them.)
_NOT_DRAWN = ("#version 130\nuniform mat4 p3d_ModelViewProjectionMatrix;\nin vec4 p3d_Vertex;\n"
              "void main() { gl_Position = p3d_ModelViewProjectionMatrix * p3d_Vertex; }\n",
              "#version 130\nout vec4 frag_color;\nvoid main() { discard; }\n")


def load_shader() -> Shader:
    files = resources.files("vr_app").joinpath("shaders")
    return Shader.make(Shader.SL_GLSL, files.joinpath("lit.vert").read_text("utf-8"),
                       files.joinpath("lit.frag").read_text("utf-8"))


def key_light(room) -> NodePath | None:
    """The scene's key light: its first point light (the TOML lists the key first)."""
    for np_ in room.root.find_all_matches("**/+PointLight"):
        if np_.get_name().startswith("light-"):
            return np_
    return None


def _shadow_camera(room, pos) -> NodePath:
    """A spotlight at the key light aimed at the bust; it only renders the shadow map (it lights nothing)."""
    spot = Spotlight("key-shadow")
    lens = PerspectiveLens()
    lens.set_fov(KEY_CONE)
    lens.set_near_far(0.2, 6.0)
    spot.set_lens(lens)
    spot.set_shadow_caster(True, SHADOW_MAP, SHADOW_MAP)
    # The depth pass draws with fixed-function state: no shading, and no sampling of the map being drawn.
    spot.set_initial_state(RenderState.make(ShaderAttrib.make_off(), 1000))
    np_ = room.root.attach_new_node(spot)
    np_.set_pos(*pos)
    np_.look_at(room.bust_anchor.get_pos(room.root) + (0, 0, -0.15))  # face and shoulders in the middle
    return np_


def _unlit_nodes(root: NodePath) -> list[NodePath]:
    """Nodes that switch lighting off (sky, flames, halos, glowing shades): they keep fixed-function."""
    found = []
    for np_ in root.find_all_matches("**"):
        attrib = np_.node().get_attrib(LightAttrib)
        if attrib is not None and attrib.has_all_off():
            found.append(np_)
    return found


def apply(room, rig) -> NodePath:
    """Shade the room and the bust with our GLSL; returns the key light's shadow camera."""
    root = room.root
    root.set_shader(load_shader())
    key = key_light(room)
    # Without a point light to cast from, the map still exists (the shader declares it) but nothing samples it.
    shadow = _shadow_camera(room, tuple(key.get_pos(root)) if key is not None else room.spec.camera_pos)
    root.set_shader_input("key_shadow", shadow)

    def surface(s: Surface) -> Vec4:
        return replace(s, shadowed=s.shadowed and key is not None).vec()

    root.set_shader_input("surface", surface(ROOM))
    for np_ in _unlit_nodes(root):
        np_.set_shader_off(1)
    rig.head_np.set_shader_input("surface", surface(SKIN))
    for anchor in rig.eyes.values():
        anchor.set_shader_input("surface", surface(EYE))
    for card in rig.sockets.values():
        card.set_shader_input("surface", surface(SKIN))
    for band in rig.lid_bands.values():
        band.set_shader_input("surface", surface(LID_BAND))
    for lid in rig.lid_surfaces.values():  # a closing upper lid, in place of the head's
        lid.node.set_shader_input("surface", surface(SKIN))
    for lashes in rig.lash_lines.values():  # the lid band's lash line, down with a closing lid
        lashes.node.set_shader_input("surface", surface(LID_BAND))
    for disc in rig.catchlights.values():
        disc.set_shader(Shader.make(Shader.SL_GLSL, *_NOT_DRAWN), 10)
    return shadow
