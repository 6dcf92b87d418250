"""Room rendering figures: offscreen ms per frame (median) at 512², 1280x720 and, where a GL
backend works, 1920x1080 and a stereo pair of 1832x1920 eyes; the same at 1280x720 with the fitted
demo portrait's head (the issue's software target: <= 40 ms); video render fps; memory.

Run: .venv/bin/python -m tests.benchmarks.bench_render [--backend software|gl] [--frames N] [--gl-check]

--gl-check (GL backend): Panda3D checks glGetError after every GL call and this prints how many GL
errors it reported (e.g. 0x502 invalid operation), with the first few lines. Run it on a GPU
machine to confirm a driver accepts every call (Mesa here does).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path


def _scene(size, backend, name="garden", inputs=None):
    """The room with the tests' ellipsoid head (20k triangles, streamed texture), or `inputs`' head."""
    from scenes.spec import load
    from tests.vr_app.heads import make_frames, make_head, make_track
    from vr_app.offscreen import OffscreenRenderer
    from vr_app.scene import MemorialScene
    from scenes.panda_textures import TextureStream

    r = OffscreenRenderer(size, backend=backend)
    spec = load(name)
    r.buffer.set_clear_color((*spec.background, 1))
    if inputs is None:
        seq = make_frames(30)
        head, texture, bust = make_head(5), TextureStream(seq.frames, seq.fps), None
    else:
        head, texture, bust = inputs.head, inputs.texture, inputs.bust
    sc = MemorialScene(r.stage, spec, head, texture, make_track(1.0), intro_s=0, bust=bust)
    return r, sc


def ms_per_frame(size, backend, frames, inputs=None, cpu: bool = False):
    """Median wall ms per frame (update + render + read-back); with cpu=True also the median process CPU
    ms, which on a busy shared machine estimates an idle one's (the software renderer is single-threaded)."""
    r, sc = _scene(size, backend, inputs=inputs)
    times, cpu_times = [], []
    for i in range(frames + 3):
        t0, c0 = time.perf_counter(), time.process_time()
        sc.update(i / 30)
        r.frame()
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    r.close()
    wall = 1000 * statistics.median(times[3:])
    return (wall, 1000 * statistics.median(cpu_times[3:])) if cpu else wall


def stereo_pair_ms(backend, frames) -> float:
    """Two 1832x1920 eye buffers rendered per frame (one engine, two renderers' worth of pixels)."""
    left, sl = _scene((1832, 1920), backend)
    right, sr = _scene((1832, 1920), backend)
    times = []
    for i in range(frames + 3):
        t0 = time.perf_counter()
        for r, sc in ((left, sl), (right, sr)):
            sc.update(i / 30)
            r.frame()
        times.append(time.perf_counter() - t0)
    left.close()
    right.close()
    return 1000 * statistics.median(times[3:])


class _NullExporter:
    def mark_image(self, rgb, face_box=None):
        return rgb

    def mark_audio(self, samples, sample_rate):
        return samples

    def finalize(self, path, media_type=None):
        pass


def video_fps(size, backend) -> tuple[float, int]:
    import os

    from generation.vault import create_vault
    from generation.vault.consent import parse_consent
    from tests.conftest import consent_toml
    from tests.vr_app.heads import make_head, make_track
    from vr_app.video import render_video

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MEMORIAL_HOME"] = tmp
        vault = create_vault("bench", parse_consent(consent_toml()), "anna", "bench-passphrase-1")
        vault.put("head/current", make_head(5).to_bytes())
        vault.put("track/line", make_track(2.0).to_bytes())
        t0 = time.perf_counter()
        out = render_video(vault, "line", Path(tmp) / "b.mp4", size=size, fps=30, backend=backend,
                           exporter=_NullExporter(), progress=False)
        dt = time.perf_counter() - t0
        import av

        with av.open(str(out)) as c:
            n = c.streams.video[0].frames
        vault.close()
    return n / dt, n


def capture_gl_errors():
    """Turn on per-call GL error checks and collect Panda3D's notify output; returns a function that
    gives the GL error lines seen so far."""
    from panda3d.core import LineStream, Notify, loadPrcFileData

    loadPrcFileData("bench-gl-check", "gl-check-errors #t")
    stream = LineStream()
    Notify.ptr().set_ostream_ptr(stream, False)
    seen = []

    def errors() -> list[str]:
        while stream.is_text_available():
            line = stream.get_line()
            if "glgsg(error)" in line or "GL error" in line:  # "...: invalid operation" is 0x502
                seen.append(line)
        return seen
    return errors


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default="software", choices=["software", "gl"])
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--gl-check", action="store_true", help="count GL errors (gl-check-errors); timings are slower")
    args = ap.parse_args(argv)
    gl_errors = capture_gl_errors() if args.gl_check else None
    print(f"backend: {args.backend}")
    for size in ((512, 512), (1280, 720)) + (((1920, 1080),) if args.backend == "gl" else ()):
        ms = ms_per_frame(size, args.backend, args.frames)
        print(f"offscreen {size[0]}x{size[1]}: {ms:.1f} ms/frame median  ({1000 / ms:.0f} fps, with read-back)")
    from .subject import demo_subject_inputs

    demo = demo_subject_inputs()
    ms, cpu = ms_per_frame((1280, 720), args.backend, args.frames, inputs=demo, cpu=True)
    target = " (target <= 40 ms)" if args.backend == "software" else ""
    print(f"offscreen 1280x720 with the fitted demo head ({len(demo.head.faces)} triangles): {ms:.1f} ms/frame median"
          f"{target}, with read-back; process CPU {cpu:.1f} ms/frame median")
    if args.backend == "gl":
        print(f"stereo pair 2x1832x1920: {stereo_pair_ms(args.backend, args.frames):.1f} ms median (with read-back)")
    fps, n = video_fps((640, 360), args.backend)
    print(f"video 640x360 (render + H.264/AAC encode, null exporter): {fps:.1f} frames/s over {n} frames")
    fps, n = video_fps((1280, 720), args.backend)
    print(f"video 1280x720 (render + H.264/AAC encode, null exporter): {fps:.1f} frames/s over {n} frames")
    print(f"peak memory (RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if gl_errors is not None:
        found = gl_errors()
        print(f"GL errors reported (gl-check-errors): {len(found)}" + "".join(f"\n  {line}" for line in found[:5]))


if __name__ == "__main__":
    main()
