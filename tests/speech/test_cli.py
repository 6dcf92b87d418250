"""`memorial say` / `drive` / `lipsync train` through the real CLI: outputs, consent and bad input."""

import numpy as np
import pytest

from assets.artifacts import ExpressionTrack

from .media import encode_audio, talking_video
from .test_audio import syllables


def keys(name):
    """Every stored blob's key and id, read from disk by a fresh unlock (not a cached index)."""
    from generation.vault import open_vault
    from tests.conftest import OWNER_PASS

    with open_vault(name, OWNER_PASS) as vault:
        return sorted((b.key, b.id) for b in vault.list(""))


def test_say_stores_a_track(cli, make_subject):
    vault = make_subject("rose")
    r = cli("say", "rose", "Hello, my dear. [smile] I am so proud of you.", "--name", "hello")
    assert r.exit_code == 0, r.output
    assert "Stored track/hello" in r.output and "av offset ms" in r.output
    tk = ExpressionTrack.from_bytes(vault.get("track/hello"))
    assert tk.source == "text" and tk.audio is not None and tk.text.startswith("Hello")
    assert len(tk.codes) == int(np.ceil(len(tk.audio) / tk.sample_rate * tk.fps))
    assert any(e.action == "track_from_text" for e in vault.audit_entries())
    again = cli("say", "rose", "Something else.", "--name", "hello")
    assert again.exit_code == 2 and "--replace" in again.output
    assert ExpressionTrack.from_bytes(vault.get("track/hello")).text == tk.text  # nothing lost


@pytest.mark.parametrize("args, words", [
    (["say", "rose", ""], "the text is empty"),
    (["say", "rose", "Hello [wave] there"], "unknown markup '[wave]'"),
    (["say", "rose", "Hello", "--voice", "/nonexistent/voice.onnx"], "voice file not found"),
    (["say", "rose"], "either TEXT"),
    (["say", "rose", "x" * 20000], "20000 characters"),
    (["say", "rose", "Hello", "--name", "../escape"], "bad track name"),
])
def test_say_bad_input(cli, make_subject, args, words):
    make_subject("rose")
    assert cli("say", "rose", "Keep this.", "--name", "kept").exit_code == 0
    before = keys("rose")
    r = cli(*args)
    assert r.exit_code != 0 and words in r.output, r.output
    assert r.output.count("\n") == 1 and r.output.startswith("memorial: error:")
    assert keys("rose") == before


def test_say_audio_replays_the_recording(cli, make_subject, tmp_path):
    vault = make_subject("rose")
    audio, _ = syllables(16000)
    clip = tmp_path / "clip.flac"
    clip.write_bytes(encode_audio(audio, 16000, "flac"))
    r = cli("say", "rose", "--audio", clip, "--name", "birthday")
    assert r.exit_code == 0, r.output
    tk = ExpressionTrack.from_bytes(vault.get("track/birthday"))
    assert tk.source == "recording" and tk.meta["mouth"].startswith("signal")


def test_say_audio_bad_files(cli, make_subject, tmp_path):
    make_subject("rose")
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEfmt garbage" * 10)
    r = cli("say", "rose", "--audio", broken)
    assert r.exit_code == 2 and "not a readable audio file" in r.output
    quiet = tmp_path / "quiet.wav"
    quiet.write_bytes(encode_audio(np.zeros(16000, np.float32), 16000, "wav"))
    r = cli("say", "rose", "--audio", quiet)
    assert r.exit_code == 2 and "silent" in r.output
    r = cli("say", "rose", "--audio", tmp_path / "missing.wav")
    assert r.exit_code == 2 and "cannot read audio file" in r.output


def test_no_voice_consent_refuses_the_recording(cli, make_subject, tmp_path):
    make_subject("rose", voice=False)
    audio, _ = syllables(16000)
    clip = tmp_path / "clip.wav"
    clip.write_bytes(encode_audio(audio, 16000, "wav"))
    r = cli("say", "rose", "--audio", clip)
    assert r.exit_code == 7 and "voice" in r.output and "use voice" in r.output


def test_authoring_needs_the_private_viewing_scope_and_a_writing_role(cli, make_subject):
    make_subject("rose", scopes=["therapy"])
    r = cli("say", "rose", "Hello.")
    assert r.exit_code == 7 and "private_viewing" in r.output
    vault = make_subject("lily")
    vault.add_member("vic", "viewer", "viewer-passphrase-1")
    r = cli("say", "lily", "Hello.", "--member", "vic", passphrase="viewer-passphrase-1")
    assert r.exit_code == 6 and "viewer" in r.output


def test_drive_command(cli, make_subject, tmp_path):
    vault = make_subject("rose")
    data, _ = talking_video(n=20, period=10)
    video = tmp_path / "my reading.mp4"
    video.write_bytes(data)
    r = cli("drive", "rose", video)
    assert r.exit_code == 0, r.output
    tk = ExpressionTrack.from_bytes(vault.get("track/my-reading"))
    assert tk.source == "video" and len(tk.codes) == 20
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    r = cli("drive", "rose", empty)
    assert r.exit_code == 2 and "empty" in r.output


def test_lipsync_train_without_talking_video(cli, make_subject):
    make_subject("rose")
    r = cli("lipsync", "train", "rose")
    assert r.exit_code == 2 and "talking-video frames" in r.output and "--speaker-independent" in r.output


@pytest.mark.parametrize("command", [["say"], ["drive"], ["lipsync", "train"], ["memory", "add"], ["memory", "list"],
                                     ["memory", "remove"], ["converse"]])
def test_help_has_an_example(cli, command):
    r = cli(*command, "--help")
    assert r.exit_code == 0 and "Example:" in r.output and "memorial " + command[0] in r.output
