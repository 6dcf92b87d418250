"""XR benchmark on the simulated runtime (no headset here): the per-frame cost of the XR task
chain, and stereo render time per eye pair with software rendering (p3tinydisplay), for a room
of cards and for the memorial scene itself (garden + the fitted demo portrait's head rig, animated,
with our GLSL shading and its shadow pass on the GL module).

    .venv/bin/python -m tests.benchmarks.bench_xr
    .venv/bin/python -m tests.benchmarks.bench_xr --frames 300 --sizes 256 512
    .venv/bin/python -m tests.benchmarks.bench_xr --module p3headlessgl --sizes 1832x1920 --msaa 4   # GPU/EGL
    .venv/bin/python -m tests.benchmarks.bench_xr --native --sizes 512   # real pyopenxr path, C runtime

`--native` runs the real pyopenxr path (loader, GLX session on Panda3D's GL context, GL
swapchains) against the C simulated runtime under Xvfb with Mesa's software GL: its frames per
second are information only (software GL on a shared CPU, not a headset's GPU).

Figures are medians over frames. The simulated runtime adds almost nothing, so the chain
figure is this app's own overhead; the render figures include reading both eyes back to RAM.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def build_room(render, n_objects: int = 60):
    """A room of cards: floor, four walls, rows of candles and frames (about the memorial
    room's object count, without its textures)."""
    from panda3d.core import CardMaker

    from vr_app.xr.interaction import SELECTABLE
    seat = render.attach_new_node("seat")
    seat.set_pos(0, 0, 1.2)

    def card(name, size, pos, hpr, color):
        cm = CardMaker(name)
        cm.set_frame(-size[0], size[0], -size[1], size[1])
        node = render.attach_new_node(cm.generate())
        node.set_pos(*pos)
        node.set_hpr(*hpr)
        node.set_color(*color)
        node.set_two_sided(True)
        return node

    card("floor", (4, 4), (0, 0, 0), (0, -90, 0), (0.35, 0.3, 0.25, 1))
    for i, (pos, h) in enumerate((((0, 4, 1.5), 0), ((0, -4, 1.5), 180), ((4, 0, 1.5), -90), ((-4, 0, 1.5), 90))):
        card(f"wall{i}", (4, 1.5), pos, (h, 0, 0), (0.8, 0.78, 0.72, 1))
    rng = np.random.default_rng(0)
    for i in range(n_objects):
        node = card(f"obj{i}", (0.1, 0.15), (rng.uniform(-3, 3), rng.uniform(1, 3.5), rng.uniform(0.3, 2.2)),
                    (rng.uniform(-30, 30), 0, 0), (*rng.uniform(0.2, 1, 3), 1))
        node.set_tag(SELECTABLE, f"obj{i}")

    class Room:
        viewpoint = seat
    return Room()


def memorial_builder(inputs):
    """The memorial scene as `memorial view` builds it for the headset, with a 2 s animated line."""
    from scenes.spec import load
    from tests.vr_app.heads import make_track
    from vr_app.xr.display import memorial_scene_builder

    build = memorial_scene_builder(inputs, load("garden"), make_track(2.0))

    def room(render):
        scene = build(render)
        scene.timeline.intro_s = 0.0
        return scene
    return room


def run(eye, frames: int, module: str, read_back: bool, build=build_room, samples: int = 0, animate: bool = True) -> dict:
    from direct.task.Task import TaskManager
    from panda3d.core import NodePath

    from vr_app.xr import tasks as T
    from vr_app.xr.display import offscreen_host
    from vr_app.xr.frame_loop import XrConfig, XrFrameLoop
    from vr_app.xr.simulated import SimulatedRuntime, quat_yaw, texture_rgba
    from vr_app.xr.adapter import Pose

    engine, host = offscreen_host((32, 32), module)
    sim = SimulatedRuntime(eye_size=eye, head_path=lambda t: Pose((0, 0, 0), quat_yaw(0.3 * np.sin(t))),
                           keep_images=read_back)
    render = NodePath("render")
    room = build(render)
    tm = TaskManager()
    loop = XrFrameLoop(sim, render, engine, host, tm, room.viewpoint,
                       XrConfig(eye_size=eye, read_back=read_back, samples=samples))
    if animate and hasattr(room, "update"):  # the head rig deforms and streams its texture every frame
        tm.add(lambda task: (room.update(task.frame / 90.0), task.cont)[1], "scene-update", sort=T.SCENE_UPDATE)
    loop.start()
    for _ in range(10):
        tm.step()  # reach FOCUSED and warm up
    loop.stats.cpu_ms.clear()
    start = time.perf_counter()
    for _ in range(frames):
        tm.step()
    left = loop.textures[0]
    if not read_back:  # read the left eye back, so the wall time waits for all the GPU was given
        engine.extract_texture_data(left, host.get_gsg())
    wall = time.perf_counter() - start
    eye_image = texture_rgba(left) if left.has_ram_image() else None
    cpu = np.array(loop.stats.cpu_ms)
    loop.stop()
    engine.remove_window(host)
    return {"eye": f"{eye[0]}x{eye[1]}", "median_ms": float(np.median(cpu)), "p95_ms": float(np.percentile(cpu, 95)),
            "fps": frames / wall, "wall_ms": 1000 * wall / frames, "submitted": sim.frames_submitted,
            "left_eye": eye_image}


def run_native(size, frames: int) -> str:
    """The headset path end to end in a child process; returns its `--stats` line."""
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from tests.xr.native.build import build_runtime, missing_tools, start_xvfb
    why = missing_tools()
    if why:
        return f"skipped: {why}"
    root = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory() as tmp:
        manifest = build_runtime(Path(tmp))
        script = Path(tmp) / "script.txt"
        script.write_text(f"size {size[0]} {size[1]}\nhead 0 5\n")
        xvfb, display = start_xvfb()
        try:
            env = dict(os.environ, DISPLAY=display, XR_RUNTIME_JSON=str(manifest), MEMORIAL_XR_SIM_SCRIPT=str(script),
                       PYTHONPATH=str(root))
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, str(root / "tests/xr/native/drive_view.py"), str(frames)],
                                  env=env, cwd=root, capture_output=True, text=True, timeout=600)
            wall = time.perf_counter() - start
        finally:
            xvfb.terminate()
            xvfb.wait(timeout=10)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("openxr:")), proc.stdout + proc.stderr)
    return f"{line} ({frames / wall:.1f} frames/s including start-up)"


def parse_size(text: str) -> tuple[int, int]:
    w, _, h = text.partition("x")
    return int(w), int(h or w)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--sizes", nargs="+", default=["256", "512"], help="eye sizes, e.g. 512 or 1832x1920")
    ap.add_argument("--module", default="p3tinydisplay", choices=["p3tinydisplay", "p3headlessgl"])
    ap.add_argument("--native", action="store_true", help="also run the C simulated runtime (pyopenxr path)")
    ap.add_argument("--msaa", type=int, default=0, help="MSAA samples for the eye buffers (e.g. 4)")
    args = ap.parse_args(argv)
    chain = run((8, 8), args.frames * 2, args.module, read_back=False)
    print(f"XR task chain per frame (8x8 eyes, simulated runtime, {args.module}): "
          f"median {chain['median_ms']:.3f} ms, p95 {chain['p95_ms']:.3f} ms")
    from .subject import demo_subject_inputs

    memorial = memorial_builder(demo_subject_inputs())
    read_back = args.module == "p3tinydisplay"
    msaa = f", {args.msaa}x MSAA" if args.msaa else ""
    for size in args.sizes:
        r = run(parse_size(size), args.frames, args.module, read_back=read_back, samples=args.msaa)
        print(f"stereo frame {r['eye']} per eye ({args.module}{msaa}, room of 65 cards): median {r['median_ms']:.2f} ms, "
              f"p95 {r['p95_ms']:.2f} ms, {r['fps']:.1f} frames/s on the simulated runtime")
        r = run(parse_size(size), args.frames, args.module, read_back=read_back, build=memorial, samples=args.msaa)
        print(f"stereo frame {r['eye']} per eye ({args.module}{msaa}, memorial garden + head rig): "
              f"median {r['median_ms']:.2f} ms, p95 {r['p95_ms']:.2f} ms, {r['fps']:.1f} frames/s "
              f"({r['wall_ms']:.2f} ms per stereo frame of wall time, the GPU's work included)")
    if args.native:
        for size in args.sizes:
            eye = parse_size(size)
            print(f"native runtime, {eye[0]}x{eye[1]} per eye, GLX on Mesa llvmpipe: {run_native(eye, args.frames)}")


if __name__ == "__main__":
    main()
