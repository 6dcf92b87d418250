"""Child process for the native-runtime test: the real `memorial view --display openxr` path
(choose_display -> run_openxr_view with the real pyopenxr adapter) against whatever runtime
XR_RUNTIME_JSON names. Runs in its own process so the loader, GLX and Panda3D start fresh.

    drive_view.py FRAMES [candle|memorial|memorial-nohead|memorial-subject] [--array] [--mirror]
"""

import os
import sys

from tests.xr.conftest import TinyRoom
from vr_app.xr.display import choose_display, run_openxr_view


class CandleRoom(TinyRoom):
    """Selecting the candle lights it: it turns yellow."""

    def on_xr_event(self, event):
        if event.kind == "select" and event.value == "candle-1":
            self.candle.set_color(1, 1, 0, 1)
            print("candle lit", flush=True)


def memorial_room(head: bool = True, subject: str | None = None):
    """The scene code's memorial room with the small hand-made head of the room tests
    (head=False hides the bust: the control image for "the head is in view"). `subject`: a folder
    with a fitted subject's head.bin (HeadModel bytes) and texture.npy, shown in the garden instead."""
    from scenes.spec import load
    from tests.vr_app.heads import face_texture, make_head
    from vr_app.inputs import RoomInputs
    from scenes.panda_textures import TextureStream
    from vr_app.xr.display import memorial_scene_builder
    if subject:
        import numpy as np
        from pathlib import Path

        from assets.artifacts import HeadModel
        folder = Path(subject)
        inputs = RoomInputs(head=HeadModel.from_bytes((folder / "head.bin").read_bytes()),
                            texture=TextureStream(np.load(folder / "texture.npy"), 1.0), track=None, title="Grace")
        builder = memorial_scene_builder(inputs, load("garden"))
    else:
        inputs = RoomInputs(head=make_head(3), texture=TextureStream(face_texture(), 1.0), track=None, title="Rose")
        builder = memorial_scene_builder(inputs, load("chapel"))

    def build(render):
        scene = builder(render)
        scene.timeline.intro_s = 0.0
        if not head:
            scene.room.bust_anchor.hide()
        return scene
    return build


def main() -> int:
    display, reason = choose_display("auto")
    print(f"display {display}: {reason}", flush=True)
    if display != "openxr":
        return 3
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    frames = int(args[0]) if args else 200
    kind = args[1] if len(args) > 1 else ""
    if kind == "memorial-subject":  # the fitted subject named by $MEMORIAL_TEST_SUBJECT
        scene = memorial_room(subject=os.environ["MEMORIAL_TEST_SUBJECT"])
    elif kind.startswith("memorial"):
        scene = memorial_room(head=kind != "memorial-nohead")
    else:
        scene = CandleRoom
    layout = "array" if "--array" in sys.argv else "per_eye"
    mirror = "--mirror" in sys.argv
    loops = []

    def shoot_mirror(task):
        # After a few frames, save what the companion's window shows (the left eye).
        if loops and loops[0].stats.frames == 10 and loops[0].mirror_output is not None:
            loops[0].mirror_output.get_screenshot().write(os.environ["MEMORIAL_MIRROR_SHOT"])
        return task.cont

    def on_start(loop):
        loops.append(loop)
        if mirror and os.environ.get("MEMORIAL_MIRROR_SHOT"):
            loop.task_mgr.add(shoot_mirror, "mirror-shot", sort=60)

    run_openxr_view(scene, frames=frames, stats=True, layout=layout, mirror=mirror, on_start=on_start)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # skip Panda3D's global teardown, which can abort under Xvfb at exit
