"""Spatial audio: the offline KEMAR renderer puts a source where it is, follows the same distance
law as OpenAL, and agrees with the live viewer's OpenAL Soft HRTF mix (wave driver)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import soundfile

from vr_app import ambience, binaural

RATE = 48000


def energies(stereo):
    return float((stereo[:, 0] ** 2).sum()), float((stereo[:, 1] ** 2).sum())


@pytest.fixture(scope="module")
def noise():
    return (np.random.default_rng(0).standard_normal(RATE // 2) * 0.1).astype(np.float32)


def test_kemar_hrirs_come_from_libmysofa():
    h = binaural.hrtf(RATE)
    left, right = h.pair(0.0, 1.0, 0.0)  # SOFA: +y is the listener's left
    assert h.length > 64 and (left ** 2).sum() > 3 * (right ** 2).sum()


@pytest.mark.parametrize("x, louder", [(-1.0, 0), (1.0, 1)])
def test_offline_source_side_sets_the_louder_ear(noise, x, louder):
    out = binaural.render(noise, RATE, np.array([x, 0.5, 0.0]))  # camera frame: x right, y forward
    e = energies(out)
    assert out.shape == (len(noise), 2)
    assert e[louder] > 2.5 * e[1 - louder], e


def test_offline_front_source_is_balanced_and_keeps_its_level(noise):
    out = binaural.render(noise, RATE, np.array([0.0, 1.0, 0.0]))
    left, right = energies(out)
    assert 0.7 < left / right < 1.4
    assert 0.5 < (left + right) / 2 / float((noise ** 2).sum()) < 2.0


def test_distance_follows_openal_inverse_clamped_law(noise):
    near = sum(energies(binaural.render(noise, RATE, np.array([0.0, 1.0, 0.0]))))
    far = sum(energies(binaural.render(noise, RATE, np.array([0.0, 4.0, 0.0]))))
    assert binaural.distance_gain(0.3) == 1.0 and binaural.distance_gain(4.0) == pytest.approx(0.25)
    assert far / near == pytest.approx(0.25 ** 2, rel=0.15)


def test_resampling_keeps_duration():
    x = np.zeros(22050, np.float32)
    assert len(binaural.resample(x, 22050, 48000)) == 48000


@pytest.mark.parametrize("kind", ["garden", "room", "chapel"])
def test_ambience_has_the_asked_level(kind):
    out = ambience.synthesize(kind, 2.0, RATE, -30.0)
    assert out.shape == (2 * RATE, 2) and out.dtype == np.float32
    assert 20 * np.log10(np.sqrt(np.mean(out ** 2))) == pytest.approx(-30.0, abs=0.5)
    with pytest.raises(KeyError):
        ambience.synthesize("beach", 1.0)


LIVE = textwrap.dedent("""
    import sys, time, numpy as np
    from panda3d.core import loadPrcFileData, AudioManager, NodePath
    loadPrcFileData("", "audio-library-name p3openal_audio")
    from vr_app.audio import SpatialAudio
    root = NodePath("root"); ear = root.attach_new_node("ear"); mouth = root.attach_new_node("mouth")
    mouth.set_pos(float(sys.argv[1]), 0.5, 0)
    mgr = AudioManager.create_AudioManager()
    assert mgr.is_valid(), "OpenAL did not start"
    sa = SpatialAudio(mgr, ear, root)
    sa.set_voice((np.random.default_rng(0).standard_normal(44100) * 0.2).astype(np.float32), 44100, mouth)
    sa.update(); sa.play_voice()
    t0 = time.time()
    while time.time() - t0 < 0.8:
        sa.update(); mgr.update(); time.sleep(0.02)
    mgr.shutdown()
""")


def live_mix(tmp_path, x: float) -> np.ndarray:
    wav = tmp_path / f"live{x}.wav"
    conf = tmp_path / "alsoft.conf"
    conf.write_text(f"[general]\ndrivers = wave\nhrtf = true\nfrequency = 44100\n[wave]\nfile = {wav}\n")
    env = {**os.environ, "ALSOFT_CONF": str(conf)}
    proc = subprocess.run([sys.executable, "-c", LIVE, str(x)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data, rate = soundfile.read(wav, dtype="float32")
    assert rate == 44100 and data.ndim == 2
    return data


def test_live_openal_hrtf_and_offline_renderer_agree_on_the_side(tmp_path, noise):
    """Boundary test of the live viewer's audio: OpenAL Soft's wave driver records what it would play."""
    for x in (-1.0, 1.0):
        live = energies(live_mix(tmp_path, x))
        offline = energies(binaural.render(noise, RATE, np.array([x, 0.5, 0.0])))
        live_ratio, offline_ratio = live[0] / live[1], offline[0] / offline[1]
        assert (live_ratio > 2) == (offline_ratio > 2) and (live_ratio < 0.5) == (offline_ratio < 0.5)
        assert (live_ratio > 2) if x < 0 else (live_ratio < 0.5), (x, live_ratio)
