"""The EGL paths never draw into or read from the pbuffer's default framebuffer.

Panda3D marks every EGL config as double-buffered (back_buffers=1), so drawing into an EGL
pbuffer directly makes it call glDrawBuffer/glReadBuffer(GL_BACK) on framebuffer 0. Mesa gives a
pbuffer a back buffer and accepts that; a driver whose pbuffer has only one buffer answers
GL_INVALID_OPERATION (0x502), the error logged on an NVIDIA render of the room. The renderers now
draw into framebuffer objects on an inactive host context. This test records the real GL calls
(an LD_PRELOAD shim, compiled here) of an offscreen render and of the XR eye buffers on Mesa EGL.
What it cannot show here: the NVIDIA driver's own answer (no GPU on this machine).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIM = Path(__file__).with_name("gl_buffer_calls.c")

CHILD = """
import os
from scenes.spec import load
from tests.vr_app.heads import face_texture, make_head
from tests.benchmarks.bench_xr import run
from vr_app.offscreen import OffscreenRenderer
from vr_app.scene import MemorialScene
from scenes.panda_textures import TextureStream
with OffscreenRenderer((96, 64), backend="gl") as r:
    MemorialScene(r.stage, load("garden"), make_head(2), TextureStream(face_texture(32), 1.0), intro_s=0)
    for _ in range(3):
        r.frame()
run((32, 32), 3, "p3headlessgl", read_back=True)
os._exit(0)
"""


@pytest.fixture(scope="module")
def shim(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler (install gcc)")
    out = tmp_path_factory.mktemp("glshim") / "gl_buffer_calls.so"
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-Wall", "-o", str(out), str(SHIM), "-ldl"], check=True)
    return out


def test_egl_renders_touch_only_framebuffer_objects(shim):
    env = dict(os.environ, LD_PRELOAD=str(shim), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    if "could not be loaded" in proc.stderr or "RenderError" in proc.stderr:
        pytest.skip(f"EGL rendering is not available here: {proc.stderr.strip().splitlines()[-1]}")
    assert proc.returncode == 0, proc.stderr
    calls = re.findall(r"glcall (\w+)(?: 0x[0-9a-f]+)? framebuffer (-?\d+)", proc.stderr)
    reads = [c for c in calls if c[0] == "glReadPixels"]
    assert len(reads) >= 3 + 2 * 3, calls  # the offscreen frames and both eyes of each XR frame were read back
    on_default = [c for c in calls if c[1] == "0"]
    assert not on_default, f"GL calls on the pbuffer's default framebuffer: {on_default}"
