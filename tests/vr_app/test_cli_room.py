"""`memorial view` and `memorial render` through the real CLI: help, bad input, exit codes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import OWNER_PASS


def test_help_shows_examples(cli):
    for cmd in ("view", "render"):
        res = cli(cmd, "--help")
        assert res.exit_code == 0 and "Example:" in res.output and f"memorial {cmd} rose" in res.output


@pytest.mark.parametrize("args, message", [
    (["--track", "hello", "--scene", "moon", "-o", "x.mp4"], "unknown scene 'moon'"),
    (["--track", "hello", "--size", "1281x720", "-o", "x.mp4"], "bad size"),
    (["--track", "hello", "--size", "big", "-o", "x.mp4"], "bad size"),
    (["-o", "x.mp4"], "exactly one of --text"),
    (["--track", "hello", "--text", "hi", "-o", "x.mp4"], "exactly one of --text"),
    (["--track", "nope", "-o", "x.mp4"], "no track named 'nope'"),
    (["--track", "hello", "-o", "x.mp4", "--png", "x.jpg"], "--png must end in .png"),
    (["--text", "  ", "-o", "x.mp4"], "--text is empty"),
])
def test_render_bad_inputs_one_line_and_nonzero(cli, room_vault, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    res = cli("render", "rose", *args)
    assert res.exit_code != 0
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("memorial: error:") and message in lines[0], res.output
    assert not (tmp_path / "x.mp4").exists()


def test_render_without_export_scope_is_refused(cli, make_subject, tmp_path):
    make_subject("ann", scopes=["private_viewing"])
    res = cli("render", "ann", "--track", "hello", "-o", tmp_path / "x.mp4")
    assert res.exit_code == 7 and "video_export" in res.output and not (tmp_path / "x.mp4").exists()


def test_render_cli_with_the_exporter_boundary(cli, room_vault, recorder, tmp_path, monkeypatch):
    import vr_app.video as video

    monkeypatch.setattr(video, "make_exporter", lambda vault: recorder)
    res = cli("render", "rose", "--track", "hello", "--scene", "garden", "-o", tmp_path / "a.mp4",
              "--size", "160x120", "--fps", "10", "--png", tmp_path / "a.png")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "a.mp4").is_file() and (tmp_path / "a.png").is_file() and "Wrote" in res.output
    assert recorder.finalized and len(recorder.boxes) > 10


def test_view_without_a_display_says_so(memorial_home, room_vault):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(MEMORIAL_HOME=str(memorial_home), MEMORIAL_PASSPHRASE=OWNER_PASS)
    proc = subprocess.run([sys.executable, "-m", "generation.cli", "view", "rose"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 10
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("memorial: error: no display: no OpenXR runtime"), lines
    assert "no desktop display" in lines[0] and lines[0].endswith("make a video with `memorial render` instead")
    assert "display: none" in proc.stdout


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed")
def test_view_opens_a_window_on_a_virtual_display(memorial_home, room_vault, tmp_path):
    """Xvfb stands in for the desktop and OpenAL Soft's wave driver for the speakers."""
    import numpy as np
    import soundfile

    wav = tmp_path / "heard.wav"
    conf = tmp_path / "alsoft.conf"
    conf.write_text(f"[general]\ndrivers = wave\nhrtf = true\n[wave]\nfile = {wav}\n")
    env = {**os.environ, "MEMORIAL_HOME": str(memorial_home), "MEMORIAL_PASSPHRASE": OWNER_PASS,
           "ALSOFT_CONF": str(conf)}
    proc = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 800x600x24", sys.executable, "-m", "generation.cli",
                           "view", "rose", "--scene", "chapel", "--seconds", "3.5"], env=env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Opening Small chapel with candles" in proc.stdout
    heard, rate = soundfile.read(wav, dtype="float32")
    onset = int(np.argmax(np.abs(heard).max(axis=1) > 1e-4))  # the device opens before the room is built
    block = rate // 10
    env = [float(np.sqrt((heard[i:i + block] ** 2).mean())) for i in range(onset, len(heard) - block, block)]
    ambience_only = np.median(env[2:15])  # during the 2 s intro card
    assert ambience_only > 0, "the room's ambience was not heard"
    assert max(env[18:]) > 3 * ambience_only, "the voice was not heard after the intro card"


NO_TORCH = textwrap.dedent("""
    import sys
    class Block:
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ImportError("torch is blocked in this test")
    sys.meta_path.insert(0, Block())
    import numpy as np
    from scenes.spec import load
    from vr_app import audio, ambience, binaural, inputs, offscreen, rig, scene, video, viewer
    from scenes.panda_textures import TextureStream
    from tests.vr_app.heads import make_head, make_frames, make_track
    r = offscreen.OffscreenRenderer((96, 64))
    seq = make_frames(4)
    sc = scene.MemorialScene(r.stage, load("chapel"), make_head(3), TextureStream(seq.frames, seq.fps), make_track(0.2))
    sc.update(2.1)
    img = r.frame()
    assert img.shape == (64, 96, 3) and img.std() > 5
    assert "torch" not in sys.modules
    print("ok without torch")
""")


def test_vr_app_runs_without_torch():
    proc = subprocess.run([sys.executable, "-c", NO_TORCH], capture_output=True, text=True, timeout=120,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert proc.returncode == 0 and "ok without torch" in proc.stdout, proc.stderr[-3000:]
