"""Build the native simulated OpenXR runtime and start a private X server for it.
Shared by the native-runtime tests and `bench_xr --native`."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).parent


def missing_tools() -> str | None:
    """Why the native runtime cannot be built or shown here, or None."""
    if (shutil.which("cc") or shutil.which("gcc")) is None:
        return "no C compiler (install gcc)"
    if not Path("/usr/include/GL/gl.h").exists():
        return "no GL headers (install libgl-dev)"
    if shutil.which("Xvfb") is None:
        return "no Xvfb (install xvfb)"
    return None


def build_runtime(folder: Path) -> Path:
    """Compile memorial_xr_sim.c into `folder` and write its manifest; returns the manifest,
    which goes in XR_RUNTIME_JSON."""
    cc = shutil.which("cc") or shutil.which("gcc")
    lib = folder / "libmemorial_xr_sim.so"
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-Wall", "-o", str(lib), str(HERE / "memorial_xr_sim.c"),
                    "-lGL", "-lm"], check=True)
    manifest = folder / "runtime.json"
    manifest.write_text('{"file_format_version": "1.0.0", "runtime": {"name": "memorial-sim", '
                        f'"library_path": "{lib}"}}}}')
    return manifest


def start_xvfb(screen: str = "320x240x24") -> tuple[subprocess.Popen, str]:
    """A private X server on a free display number; stop it with proc.terminate()."""
    for number in range(90, 200):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            break
    else:
        raise RuntimeError("no free X display number")
    proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", screen, "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(50):
        if Path(f"/tmp/.X11-unix/X{number}").exists():
            break
        time.sleep(0.1)
    return proc, f":{number}"
