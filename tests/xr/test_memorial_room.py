"""The memorial room itself in the (simulated) headset: the scene code's MemorialScene built by
`memorial_scene_builder`, both eyes show the room and the bust, the intro card and the label
reach the headset on the overlay panel, and the scene clock holds while paused."""

import numpy as np
import pytest

from scenes.spec import load
from vr_app.inputs import RoomInputs
from scenes.panda_textures import TextureStream
from vr_app.xr.display import memorial_scene_builder, run_openxr_view
from vr_app.xr.simulated import SimulatedRuntime

from ..vr_app.heads import face_texture, make_head

EYE = (96, 96)


def inputs():
    return RoomInputs(head=make_head(3), texture=TextureStream(face_texture(), 1.0), track=None, title="Rose")


def run(frames, intro_s, on_start=None):
    sim = SimulatedRuntime(eye_size=EYE)
    captured = {}
    builder = memorial_scene_builder(inputs(), load("chapel"))

    def build(render):
        scene = builder(render)
        scene.timeline.intro_s = intro_s
        captured["scene"] = scene
        return scene

    def start(loop):
        captured["loop"] = loop
        if on_start:
            on_start(loop)

    run_openxr_view(build, runtime=sim, frames=frames, eye_size=EYE, on_start=start)
    return sim, captured["scene"], captured["loop"]


def centre(img, r=6):
    h, w = img.shape[:2]
    return img[h // 2 - r:h // 2 + r, w // 2 - r:w // 2 + r, :3].astype(float)


def test_both_eyes_show_room_and_bust_after_the_intro():
    sim, scene, loop = run(frames=20, intro_s=0.0)
    left, right = sim.submitted[0], sim.submitted[1]
    assert not np.array_equal(left, right)
    for img in (left, right):
        assert img[..., :3].std() > 10  # a room, not a cleared buffer
    seat = scene.viewpoint.get_pos(loop.scene)
    bust = scene.room.bust_anchor.get_pos(loop.scene)
    head = loop.anchors.head.get_pos(loop.scene)
    assert (head - seat).length() < 1e-4  # recentred onto the seat the desktop camera uses
    assert (bust - head).length() < 5.0
    # The bust's view-dependent face follows the headset: a step aside turns the angle it is seen from.
    scene.rig.set_viewer(scene.viewer)
    front = scene.rig.view_angle
    loop.anchors.head.set_x(loop.anchors.head, 1.0)
    scene.rig.set_viewer(scene.viewer)
    assert abs(scene.rig.view_angle - front) > 10, (front, scene.rig.view_angle)


def test_intro_card_is_shown_in_the_headset_then_fades():
    sim, scene, loop = run(frames=4, intro_s=5.0)
    intro_centre = centre(sim.submitted[0]).mean()
    sim2, _, _ = run(frames=4, intro_s=0.0)
    room_centre = centre(sim2.submitted[0]).mean()
    assert intro_centre < room_centre - 10  # the dark intro card covers the view's centre


def run_recording(paused: bool):
    times = []
    sim = SimulatedRuntime(eye_size=EYE)
    builder = memorial_scene_builder(inputs(), load("chapel"))

    def build(render):
        scene = builder(render)
        original = scene.update
        scene.update = lambda t: (times.append(t), original(t))
        return scene

    def start(loop):
        if paused:
            loop.set_paused(True)
    run_openxr_view(build, runtime=sim, frames=12, eye_size=EYE, on_start=start)
    return times


def test_scene_clock_runs_on_display_time_and_stands_still_while_paused():
    running = run_recording(paused=False)
    assert len(running) >= 10 and running == sorted(running)
    assert running[-1] - running[0] == pytest.approx((len(running) - 1) / 72.0, rel=1e-6)  # 72 Hz frames
    held = run_recording(paused=True)
    assert len(held) >= 10 and set(held) == {0.0}


def test_label_is_drawn_on_the_headset_panel(host):
    from panda3d.core import NodePath

    from vr_app.overlay import Overlay
    from vr_app.xr.panel import OverlayPanel
    engine, buf = host
    overlay_root, world = NodePath("aspect2d"), NodePath("render")
    Overlay(overlay_root, 16 / 9, "Rose", 720)
    panel = OverlayPanel(engine, buf, overlay_root, world, aspect=16 / 9, texture_size=(1024, 512))
    try:
        engine.render_frame()
        engine.render_frame()
        shot = panel.buffer.get_screenshot()
        img = np.frombuffer(bytes(shot.get_ram_image_as("RGBA")), np.uint8).reshape(512, 1024, 4)[::-1]
        corner = img[460:, 800:]  # bottom right: the 'AI-generated likeness' label
        assert (corner[..., :3].min(axis=2) > 180).sum() > 5  # white text
        assert (corner[..., 3] > 100).sum() > 50  # on its dark card, opaque on the panel
        assert img[10:200, 20:400, 3].max() < 20  # empty overlay stays transparent
    finally:
        panel.close()
