"""Our GLSL shading (vr_app/shading.py) on the EGL path, and the software path's fallback.

The key light's shadow is a real shadow-map pass (switching the shadow term off brightens
exactly the shadowed pixels and nothing else), the eyes carry a specular highlight, no room is
so dark that the face sinks, and p3tinydisplay (no shaders) draws fixed-function lighting.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from panda3d.core import Point2, Point3

from vr_app import shading

LUMA = np.array([0.2126, 0.7152, 0.0722])


class Room:
    """A memorial scene with the fitted subject in an offscreen renderer."""

    def __init__(self, inputs, scene: str, backend: str, size=(400, 300)):
        from scenes.spec import load
        from vr_app.errors import RenderError
        from vr_app.offscreen import OffscreenRenderer
        from vr_app.scene import MemorialScene

        self.spec = load(scene)
        try:
            self.renderer = OffscreenRenderer(size, backend=backend)
        except RenderError as exc:
            pytest.skip(f"{backend} offscreen rendering is not available here: {exc}")
        self.renderer.buffer.set_clear_color((*self.spec.background, 1))
        self.scene = MemorialScene(self.renderer.stage, self.spec, inputs.head, inputs.texture, None, inputs.photos,
                                   intro_s=0.0)
        self.renderer.frame()  # the shadow map's buffer is made on the first frame, drawn from the next on

    def frame(self) -> np.ndarray:
        return self.renderer.frame().astype(np.float32) / 255  # [H,W,3] 0..1

    def close_up(self, fov: float = 10.0) -> None:
        """Look straight at the eyes with a narrow lens."""
        stage = self.renderer.stage
        stage.lens.set_min_fov(fov)
        stage.camera.look_at(*self.spec.bust_pos)

    def pixel(self, node) -> tuple[int, int]:
        stage = self.renderer.stage
        film = Point2()
        assert stage.lens.project(stage.camera.get_relative_point(node, Point3(0, 0, 0)), film)
        w, h = stage.size
        return int((film.x + 1) / 2 * w), int((1 - film.y) / 2 * h)

    def close(self) -> None:
        self.renderer.close()


@pytest.fixture
def room(fitted_subject):
    made = []

    def make(scene="garden", backend="gl", size=(400, 300)):
        made.append(Room(fitted_subject["inputs"], scene, backend, size))
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_software_path_draws_fixed_function(room):
    """p3tinydisplay has no shaders: the shading changes nothing in its pixels.

    Switching the shader off changes the render state, so the state sort may draw two nearly
    coplanar surfaces (lid and eyeball, lips and cavity) in another order: a handful of pixels
    may flip at a depth tie. Shading would change the whole lit room instead."""
    r = room(backend="software")
    shaded = r.frame()
    r.scene.room.root.set_shader_off(1000)
    changed = np.any(shaded != r.frame(), axis=-1)
    assert changed.mean() < 1e-4, f"{int(changed.sum())} pixels changed"


def test_gl_path_really_runs_our_shaders(room):
    """Our shader's own input changes the picture: a highlight of GL's own on the room. (Its lighting
    is otherwise the fixed-function one, per pixel, so switching it off changes little.)"""
    r = room()
    plain = r.frame()
    r.scene.room.root.set_shader_input("surface", shading.Surface(specular=2.0, shininess=4.0).vec())
    assert np.abs(r.frame() - plain).mean() > 0.01


def test_key_light_casts_a_shadow(room):
    r = room("living_room")  # the reading lamp throws the bust's shadow onto the armchair behind it
    with_shadow = r.frame() @ LUMA
    unshadowed = lambda surface: dataclasses.replace(surface, shadowed=False).vec()  # noqa: E731
    r.scene.room.root.set_shader_input("surface", unshadowed(shading.ROOM))
    r.scene.rig.head_np.set_shader_input("surface", unshadowed(shading.SKIN))
    for eye in r.scene.rig.eyes.values():
        eye.set_shader_input("surface", unshadowed(shading.EYE))
    without = r.frame() @ LUMA
    darker = without - with_shadow
    assert (darker > 0.08).sum() > 500, "no visible shadow from the key light"
    assert darker.min() > -0.01, "a shadow may only darken"


def test_eyes_have_a_moist_highlight(room):
    r = room(size=(640, 480))
    r.close_up()
    img = r.frame() @ LUMA

    def iris_peaks(image):  # brightest pixel over each iris: the eyeball's axis +-12 px at this zoom
        return [float(image[y - 12:y + 13, x - 12:x + 13].max()) for x, y in map(r.pixel, r.scene.rig.eyes.values())]

    wet = iris_peaks(img)
    for eye in r.scene.rig.eyes.values():
        eye.set_shader_input("surface", shading.ROOM.vec())
    dry = iris_peaks(r.frame() @ LUMA)
    assert len(wet) == 2
    for w, d in zip(wet, dry):
        assert w > d + 0.2, f"no highlight on the eye: {wet} vs {dry} with a matte surface"


def test_lit_skin_is_not_blown_out(room):
    """The key light on top of a photo texture (which holds its own light) went past 1 and clipped
    red first: a sixth of a close-up face was flat orange. Highlights are eased off instead."""
    r = room(size=(640, 480))
    r.close_up(fov=16)
    img = r.frame()
    x0, y0, x1, y1 = r.scene.face_box()
    face = img[max(y0, 0):y1, max(x0, 0):x1]
    clipped = (face.max(-1) >= 254 / 255).mean()
    assert face.size > 30_000 and clipped < 0.01, f"{clipped:.1%} of the face is clipped"


@pytest.mark.parametrize("scene", ["garden", "chapel", "living_room"])
@pytest.mark.parametrize("backend", ["software", "gl"])
def test_face_is_not_dark_in_any_room(room, scene, backend):
    """The lit face keeps at least 75% of its own texture's brightness (the photo's own light)."""
    r = room(scene, backend, size=(640, 360))
    lit = r.frame()
    x0, y0, x1, y1 = r.scene.face_box()
    w, h = x1 - x0, y1 - y0
    inner = (slice(y0 + int(0.22 * h), y0 + int(0.5 * h)), slice(x0 + int(0.3 * w), x0 + int(0.7 * w)))  # brow..mouth
    bust = r.scene.rig.root
    bust.set_light_off(1000)
    bust.set_shader_off(1000)
    bust.set_material_off(1000)
    flat = r.frame()  # the texture as it is, unlit
    exposure = (lit[inner] @ LUMA).mean() / (flat[inner] @ LUMA).mean()
    assert exposure > 0.75, f"the face is dark in the {scene}: {exposure:.2f} of its texture's brightness"


def test_a_room_without_a_point_light_still_renders():
    """The key light is the room's first point light; a room with none draws with no shadow term."""
    from scenes.spec import load
    from tests.vr_app.heads import face_texture, make_head
    from vr_app.errors import RenderError
    from vr_app.offscreen import OffscreenRenderer
    from vr_app.scene import MemorialScene
    from scenes.panda_textures import TextureStream

    spec = load("garden")
    spec.lights = [light for light in spec.lights if light.type != "point"]
    try:
        renderer = OffscreenRenderer((160, 90), backend="gl")
    except RenderError as exc:
        pytest.skip(f"no EGL here: {exc}")
    with renderer:
        scene = MemorialScene(renderer.stage, spec, make_head(2), TextureStream(face_texture(32), 1.0), intro_s=0.0)
        assert shading.key_light(scene.room) is None
        renderer.frame()
        img = renderer.frame()
        x0, y0, x1, y1 = scene.face_box()
        assert img[y0:y1, x0:x1].mean() > 40  # the face is drawn and lit by the rest of the room's light


def test_the_open_mouth_is_as_dark_on_gl_as_in_software(room):
    """The software renderer multiplies a lit vertex colour in twice, and the teeth, tongue and cavity colours
    (vr_app/mouth.py) were chosen there: GL drew them once, a pale grey-pink inside of the mouth where the
    videos show it dark with a red tongue. Behind the lips, relative to the cheek
    beside them, both read alike."""
    from assets import expression

    readings = {}
    for backend in ("software", "gl"):
        r = room(backend=backend, size=(480, 360))
        r.close_up(fov=8)
        rig = r.scene.rig
        rig.set_code(expression.from_dict({"jaw_open": 0.6}))
        r.renderer.stage.camera.look_at(rig.mouth)
        img = r.frame() @ LUMA
        x, y = r.pixel(rig.mouth)
        inside = float(np.median(img[y + 5:y + 30, x - 30:x + 31]))  # the tongue and the dark behind the teeth
        cheek = float(np.median(img[y - 60:y - 40, x + 60:x + 100]))
        readings[backend] = inside / cheek
    assert abs(readings["gl"] - readings["software"]) < 0.04, readings  # main drew gl 0.118 against 0.034


def test_multisampling_takes_effect_with_the_shadow_pass():
    """A 4x multisampled buffer antialiases the room. Panda's shadow-map pass (a buffer without samples)
    left GL_MULTISAMPLE off, so on main a 4x buffer drew exactly the pixels of a plain one."""
    from scenes.panda_textures import TextureStream
    from scenes.spec import load
    from tests.vr_app.heads import face_texture, make_head
    from vr_app.errors import RenderError
    from vr_app.offscreen import OffscreenRenderer
    from vr_app.scene import MemorialScene

    spec = load("chapel")
    images = []
    for samples in (0, 4):
        try:
            renderer = OffscreenRenderer((240, 135), backend="gl", multisample=samples)
        except RenderError as exc:
            pytest.skip(f"no EGL here: {exc}")
        with renderer:
            MemorialScene(renderer.stage, spec, make_head(2), TextureStream(face_texture(32), 1.0), intro_s=0.0)
            renderer.frame()  # the shadow map's buffer is made on the first frame
            images.append(renderer.frame().astype(np.float32))
    plain, smooth = images
    edges = (np.abs(smooth - plain).max(axis=-1) > 0).sum()
    assert edges > 200, f"only {edges} pixels changed: the 4x buffer was not antialiased"
    assert np.abs(smooth.mean(axis=(0, 1)) - plain.mean(axis=(0, 1))).max() < 1.0  # edges only, same light
