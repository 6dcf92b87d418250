"""`memorial ingest` through the real command line, including a kill -9 in the middle."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import OWNER_PASS, run_memorial

from . import media as M


def test_help_has_example(cli):
    for args in (("ingest", "--help"), ("subject", "fit", "--help")):
        result = cli(*args)
        assert result.exit_code == 0 and "Example:" in result.output


def test_ingest_prints_summary(cli, make_subject, media_dir, bad_dir):
    make_subject("rose")
    result = cli("ingest", "rose", media_dir / "hopper.jpg", bad_dir / "empty.jpg", "--no-fit", "-q")
    assert result.exit_code == 0, result.output
    assert "Accepted       1 file(s), 1 face sample(s)" in result.output
    assert "empty.jpg: empty file (0 bytes)" in result.output


def test_ingest_of_only_bad_files_fails_with_one_line(cli, make_subject, bad_dir):
    make_subject("rose")
    result = cli("ingest", "rose", bad_dir / "notes.jpg", bad_dir / "corrupt.mp4", "--no-fit", "-q")
    assert result.exit_code != 0
    assert "memorial: error: none of the 2 file(s) could be ingested" in result.output


def test_ingest_missing_path(cli, make_subject, tmp_path):
    make_subject("rose")
    result = cli("ingest", "rose", tmp_path / "nope.jpg", "--no-fit", "-q")
    assert result.exit_code != 0 and "no such file or folder" in result.output


def test_ingest_killed_with_sigkill_can_be_rerun(make_subject, memorial_home, tmp_path):
    vault = make_subject("rose")
    vault.close()
    album = tmp_path / "album"
    album.mkdir()
    for i, rgb in enumerate(M.variants(8)):
        M.save(album / f"photo-{i}.png", rgb)
    env = {"MEMORIAL_HOME": str(memorial_home), "MEMORIAL_PASSPHRASE": OWNER_PASS}
    blobs = memorial_home / "subjects" / "rose" / "blobs"
    start = len(list(blobs.iterdir()))
    proc = subprocess.Popen([sys.executable, "-m", "generation.cli", "ingest", "rose", str(album), "--no-fit", "-q"],
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(list(blobs.iterdir())) < start + 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    if proc.poll() is not None:
        pytest.fail("the ingest finished before it could be killed")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    again = run_memorial("ingest", "rose", album, "--no-fit", "-q", env=env, timeout=120)
    assert again.returncode == 0, again.stderr
    from generation.vault import open_vault

    with open_vault("rose", OWNER_PASS) as v:
        originals = v.list("original/")
        samples = v.list("sample/")
        assert sorted(b.meta["filename"] for b in originals) == [f"photo-{i}.png" for i in range(8)]
        assert sorted(b.key[7:] for b in samples) == sorted(b.key[9:] for b in originals)
        assert len(v.audit_entries()) > 0  # the chain still verifies
    done_before = again.stdout.count("already ingested")
    assert 1 <= done_before < 8, again.stdout  # the killed run had committed some files, not all


@pytest.mark.slow
def test_ingest_of_one_portrait_fits_through_single_photo_mode(cli, make_subject):
    """The demo's path: one portrait -> ingest -> single-photo album -> dataset summary."""
    from assets.default_subject import portrait_path

    make_subject("rose")
    result = cli("ingest", "rose", portrait_path(), "-q")
    assert result.exit_code == 0, result.output
    assert "Dataset        " in result.output and "1 real, " in result.output
    assert " 0 synthetic" not in result.output
    again = cli("ingest", "rose", portrait_path(), "-q")  # nothing new: no error, no refit
    assert again.exit_code == 0 and "already ingested" in again.output and "Dataset" not in again.output


def test_native_log_lines_stay_out_of_the_terminal(make_subject, memorial_home, media_dir):
    """mediapipe/TFLite write to fd 2 below Python: the user sees only our lines; the log keeps theirs."""
    make_subject("rose")
    env = {"MEMORIAL_HOME": str(memorial_home), "MEMORIAL_PASSPHRASE": OWNER_PASS}
    quiet = run_memorial("ingest", "rose", media_dir / "hopper.jpg", "--no-fit", "-q", env=env)
    assert quiet.returncode == 0, quiet.stderr
    assert "Accepted       1 file(s)" in quiet.stdout
    assert quiet.stderr.strip() == "", quiet.stderr
    log = (memorial_home / "logs" / "native.log").read_text()
    assert "XNNPACK" in log or "W0000" in log or "absl" in log, log[:500]

    bad = run_memorial("ingest", "rose", media_dir / "missing.jpg", env=env)
    assert bad.returncode != 0 and bad.stderr.splitlines()[-1].startswith("memorial: error:"), bad.stderr  # ours show

    make_subject("lily")  # a fresh subject, so the face is detected again
    loud = run_memorial("-v", "ingest", "lily", media_dir / "hopper.jpg", "--no-fit", "-q", env=env)
    assert loud.returncode == 0 and loud.stderr.strip() != "", "with -v the native lines reach the terminal"
