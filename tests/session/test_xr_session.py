"""A session in the simulated headset: the eyes show the room, then the neutral room after an
emergency stop; the runtime taking focus away (the headset off) pauses the session."""

from __future__ import annotations

import numpy as np

from scenes.spec import load
from vr_app.session.controller import SessionController
from vr_app.session.room_view import NEUTRAL_RGB
from vr_app.session.xr import session_scene_builder
from vr_app.xr.display import memorial_scene_builder, run_openxr_view
from vr_app.xr.simulated import SimulatedRuntime
from tests.xr.test_memorial_room import EYE, inputs


class ScriptedClient:
    """The client session's interface with commands arriving at given frames instead of a socket;
    it asks for a mirror picture every `mirror_every` frames, as ClientSession does each second."""

    def __init__(self, plan: dict, script: dict[int, list[str]], mirror_every: int = 5):
        self.snapshot = None
        self.mirrors: dict[int, bytes | None] = {}
        self.mirror_every = mirror_every
        self.frame = 0
        self.controller = SessionController(plan=plan, clock=lambda: self.frame / 90)
        self.script = script
        self.views = []

    def tick(self):
        for seq, name in enumerate(self.script.get(self.frame, []), 1):
            self.controller.command(name, self.frame * 10 + seq)
        self.controller.link_alive()
        self.controller.tick()
        if self.snapshot is not None and self.frame % self.mirror_every == 0:
            self.mirrors[self.frame] = self.snapshot()
        self.frame += 1
        view = self.controller.view()
        self.views.append(view)
        return view

    def headset(self, worn: bool) -> None:
        self.controller.headset(worn)

    def leave(self) -> None:
        self.controller.leave()


def run(client, frames, on_start=None, safe_spec=None):
    sim = SimulatedRuntime(eye_size=EYE)
    shots = {}

    def grab(task):
        if 0 in sim.submitted:
            shots[client.frame] = sim.submitted[0].copy()  # the left eye as last submitted
        return task.cont

    builder = session_scene_builder(memorial_scene_builder(inputs(), load("garden")), client, safe_spec)

    def start(loop):
        builder.on_start(loop)
        loop.task_mgr.add(grab, "grab", sort=1000)
        if on_start:
            on_start(sim, loop)

    run_openxr_view(builder, runtime=sim, frames=frames, eye_size=EYE, on_start=start)
    client.scene = builder.scene.scene  # the MemorialScene, for checks after the run
    return sim, shots


def test_pause_dims_the_headset_and_emergency_stop_shows_the_neutral_room(plan):
    client = ScriptedClient(plan.to_json(), {0: ["start", "next", "next"], 12: ["pause"], 18: ["emergency_stop"]})
    sim, shots = run(client, frames=26)
    modes = [v.mode for v in client.views]
    assert modes[8] == "running" and modes[14] == "paused" and modes[-1] == "stopped"
    before, paused = shots[10][..., :3].astype(float), shots[16][..., :3].astype(float)
    after = sim.submitted[0][..., :3].astype(float)
    assert before.std() > 10  # the room with the likeness
    assert paused.mean() < 0.6 * before.mean()  # the whole view dims, not just the label panel
    neutral = np.array(NEUTRAL_RGB) * 255
    assert np.abs(after.reshape(-1, 3).mean(axis=0) - neutral).max() < 25  # the plain neutral room
    assert after.std() < before.std()
    assert not client.scene.overlay.label_np.is_hidden()  # the label is still drawn after the stop


def test_losing_focus_in_the_headset_pauses_the_session(plan):
    client = ScriptedClient(plan.to_json(), {0: ["start", "next"]})

    def start(sim, loop):
        def menu(task):
            if client.frame == 8:
                sim.show_system_menu()  # the runtime takes input focus away, as when the headset comes off
            return task.cont
        loop.task_mgr.add(menu, "menu", sort=1001)

    run(client, frames=16, on_start=start)
    assert client.views[-1].mode == "paused" and client.views[-1].reason == "headset off"
    assert client.views[-1].volume == 0.0


def test_the_pause_button_in_the_headset_leaves_the_session(plan):
    client = ScriptedClient(plan.to_json(), {0: ["start", "next"]})

    def start(sim, loop):
        def button(task):
            if client.frame in (6, 7):
                sim.set_input("left", "/input/menu/click", 1.0 if client.frame == 6 else 0.0)
            return task.cont
        loop.task_mgr.add(button, "button", sort=1001)

    run(client, frames=14, on_start=start)
    last = client.views[-1]
    assert (last.mode, last.room, last.volume) == ("left", "neutral", 0.0)


def test_the_therapist_mirror_follows_the_headset_view(plan):
    import io

    from PIL import Image

    client = ScriptedClient(plan.to_json(), {0: ["start", "next", "next"], 12: ["emergency_stop"]})
    run(client, frames=24)
    pictures = {f: np.asarray(Image.open(io.BytesIO(j)).convert("RGB"), float) for f, j in client.mirrors.items()
                if j is not None}
    assert set(pictures) >= {10, 20}
    assert pictures[10].shape == (108, 192, 3)
    assert pictures[10].std() > 10  # the room with the likeness
    neutral = np.array(NEUTRAL_RGB) * 255
    assert np.abs(pictures[20].reshape(-1, 3).mean(axis=0) - neutral).max() < 25  # what the client sees now


def test_grounding_shows_the_plans_calm_room_around_the_same_seat(plan):
    client = ScriptedClient(plan.to_json(), {0: ["start", "next"], 10: ["grounding"]})
    sim, shots = run(client, frames=18, safe_spec=load("chapel"))
    garden, chapel = shots[8][..., :3].astype(float), sim.submitted[0][..., :3].astype(float)
    assert client.views[-1].room == "safe"
    assert chapel.std() > 10  # a lit room, not the neutral sphere
    assert np.abs(garden - chapel).mean() > 20  # another room than the garden


def test_far_stands_further_along_the_line_of_sight_than_near(plan):
    distances = {}
    for label, script in (("far", ["start", "next"]), ("near", ["start", "next", "next"])):
        client = ScriptedClient(plan.to_json(), {0: script})
        run(client, frames=4)
        scene = client.scene
        distances[label] = scene.rig.root.get_pos(scene.stage.camera).length()
    assert distances["far"] > distances["near"] + 1.0, distances
