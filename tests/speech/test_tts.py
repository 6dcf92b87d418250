"""Real piper TTS with the packaged voice (RTF ~0.1 here): timings, visemes, markup, chunk joins, bad text."""

import numpy as np
import pytest

from assets.errors import UsageError
from generation.speech import sync, track, tts, visemes

SENTENCE = "Please bring my blue paper bag, Bob."


@pytest.fixture(scope="module")
def spoken():
    speech = tts.speak(SENTENCE)
    return speech, track.speech_track(speech, text=SENTENCE)


def test_timeline_covers_the_audio_exactly_with_model_timings(spoken):
    speech, _ = spoken
    assert speech.meta["timings"] == "model" and speech.meta["voice"] == "en_US-joe-medium"
    assert speech.sample_rate == 22050 and 1.0 < speech.duration < 6.0
    starts = np.array([p[0] for p in speech.phonemes])
    ends = np.array([p[1] for p in speech.phonemes])
    assert starts[0] == 0 and abs(ends[-1] - speech.duration) < 1e-6
    assert np.allclose(starts[1:], ends[:-1])  # contiguous, no gaps, one clock
    phones = "".join(p[2] for p in speech.phonemes)
    assert "b" in phones and "p" in phones and not any(visemes.is_modifier(p[2]) for p in speech.phonemes)


def test_visemes_at_the_right_times(spoken):
    _, tk = spoken
    press = sync.control_curve(tk, "mouth_press")
    jaw = sync.control_curve(tk, "jaw_open")
    # lips are pressed right before each bilabial's sound starts; an open vowel opens the jaw
    for start, end, ph, vis in tk.phonemes:
        if ph in ("b", "p"):
            k = int(start * sync.RATE)
            assert press[max(k - 6, 0):k + 2].max() > 0.6, (ph, start)
        if vis == "aa" and end - start > 0.06:
            k = int((start + end) / 2 * sync.RATE)
            assert jaw[k - 4:k + 4].max() > 0.35, (ph, start)


def test_curves_are_smooth(spoken):
    _, tk = spoken
    jumps = np.abs(np.diff(tk.codes, axis=0)).max(axis=0)  # per control, per frame at 30 fps
    names = list(visemes.MOUTH)
    # piper's noise varies timings per run: over 6 runs the jaw's largest step was 0.37-0.47 and the
    # largest of any mouth control 0.70-0.86 (a lip release is fast); a snap would be a full 1.0 step.
    assert jumps[visemes.MOUTH_IDX[names.index("jaw_open")]] < 0.6
    assert jumps.max() < 0.95


def test_audio_and_visemes_share_one_clock(spoken):
    _, tk = spoken
    assert abs(tk.meta["av_offset_ms"]) <= 20
    assert len(tk.codes) == int(np.ceil(len(tk.audio) / tk.sample_rate * tk.fps))
    release = [r for r, _ in sync.plosive_offsets_ms(tk)]
    assert release and sync.within_itu(float(np.median(release)))


def test_offset_measure_sees_a_shift(spoken):
    _, tk = spoken
    shifted = track.ExpressionTrack(fps=tk.fps, codes=np.roll(tk.codes, 4, axis=0), pose=tk.pose, source="text",
                                    audio=tk.audio, sample_rate=tk.sample_rate)
    assert -160 < sync.xcorr_offset_ms(shifted) - sync.xcorr_offset_ms(tk) < -100  # picture 133 ms late


def test_markup_pause_and_smile():
    speech = tts.speak("[smile] Hello. [pause 0.8] Goodbye.")
    pauses = [p for p in speech.phonemes if p[1] - p[0] >= 0.79 and p[3] == "sil"]
    assert pauses, "the marked pause is in the timeline"
    a, b = pauses[0][0], pauses[0][1]
    quiet = speech.audio[int(a * speech.sample_rate):int(b * speech.sample_rate)]
    assert np.abs(quiet).max() < 1e-6
    assert len(speech.smile_spans) == 1 and speech.smile_spans[0][1] <= a + 1e-6
    tk = track.speech_track(speech)
    cheek = sync.control_curve(tk, "cheek_raise")  # only the marked smile raises the cheeks
    assert cheek[int(0.3 * sync.RATE)] > 0.15 and cheek[int((b + 0.5) * sync.RATE)] < 0.02


def test_chunks_join_without_clicks():
    speech = tts.speak("One. Two, three. Four!")
    a = speech.audio
    # no sample-to-sample step anywhere near full scale; the joins are faded
    assert np.abs(np.diff(a)).max() < 0.6
    assert np.isfinite(a).all() and np.abs(a).max() <= 0.9 + 1e-6


def test_long_text_is_split_under_the_model_limit(monkeypatch):
    monkeypatch.setattr(tts, "MAX_PHONEMES_PER_CALL", 20)
    speech = tts.speak("the quick brown fox jumps over the lazy dog and runs far away into the old green forest")
    ends = [p[1] for p in speech.phonemes]
    assert speech.duration > 3 and np.allclose([p[0] for p in speech.phonemes][1:], ends[:-1])


def test_emoji_are_dropped_not_read():
    a = tts.speak("I love you")
    b = tts.speak("I love you \U0001F60A\u2764\ufe0f")
    assert [p[2] for p in a.phonemes if p[3] != "sil"] == [p[2] for p in b.phonemes if p[3] != "sil"]


@pytest.mark.parametrize("line, words", [
    ("", "the text is empty"),
    ("   ", "the text is empty"),
    ("x" * 20000, "20000 characters"),
    ("Hello [wave]", "unknown markup"),
    ("\U0001F60A\U0001F60A", "no speakable words"),
    ("Hello 你好", "CJK letters"),
])
def test_bad_text(line, words):
    with pytest.raises(UsageError, match=words):
        tts.speak(line)


def test_unknown_voice_file(tmp_path):
    with pytest.raises(UsageError, match="voice file not found"):
        tts.speak("Hello", voice=tmp_path / "nope.onnx")
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not a model")
    (tmp_path / "broken.onnx.json").write_text("{}")
    with pytest.raises(UsageError, match="cannot load piper voice"):
        tts.speak("Hello", voice=bad)
    with pytest.raises(UsageError, match="piper .onnx file"):
        tts.speak("Hello", voice=tmp_path / "voice.txt")


def test_espeak_fallback_gives_estimated_timings():
    speech = tts.speak("Hello my friend.", voice="espeak")
    assert speech.meta["voice"].startswith("espeak-ng") and speech.meta["timings"].startswith("estimated")
    assert abs(speech.phonemes[-1][1] - speech.duration) < 1e-6
    assert any(p[3] == "PP" for p in speech.phonemes)  # the m of "my"


def test_espeak_speaks_each_sentence_once():
    one = tts.speak("Hello there.", voice="espeak")
    two = tts.speak("Hello there. Hello there.", voice="espeak")
    assert 1.5 < two.duration / one.duration < 2.6


def test_any_piper_voice_file_can_be_passed(tmp_path):
    src = tts.default_voice_path()
    (tmp_path / "my-voice.onnx").symlink_to(src)
    (tmp_path / "my-voice.onnx.json").symlink_to(f"{src}.json")
    speech = tts.speak("Good night.", voice=tmp_path / "my-voice.onnx")
    assert speech.meta["voice"] == "my-voice" and speech.meta["timings"] == "model"
    (tmp_path / "lonely.onnx").symlink_to(src)
    with pytest.raises(UsageError, match="voice config not found"):
        tts.speak("Good night.", voice=tmp_path / "lonely.onnx")


def test_estimated_timings_cover_the_voiced_span():
    sr = 16000
    audio = np.zeros(sr, np.float32)
    audio[4000:12000] = 0.5 * np.sin(np.arange(8000) * 0.2)
    counts = tts.estimate_counts(["^", "h", "a", " ", "p", "i", "$"], audio, sr)
    assert sum(c for _, c in counts) == sr
    assert counts[0][0] == "^" and abs(counts[0][1] - 4000) <= 2 and abs(counts[-1][1] - 4000) <= 2
    n = dict((u, c) for u, c in counts[1:-1])
    assert n["a"] > n["h"] and n[" "] < n["h"]  # vowels longer than consonants, word gaps shortest


def test_say_text_and_idle_track_for_the_demo(make_subject):
    from assets.artifacts import ExpressionTrack
    from generation.speech import idle_track, say_text

    vault = make_subject("rose")
    t = say_text(vault, "Hello, my dear.", name="demo-line")
    assert ExpressionTrack.from_bytes(vault.get("track/demo-line")).duration == t.duration
    assert abs(t.meta["av_offset_ms"]) <= 20 and t.source == "text"
    again = say_text(vault, "Goodbye, my dear.", name="demo-line")  # the demo may run twice
    assert ExpressionTrack.from_bytes(vault.get("track/demo-line")).text == again.text
    idle = idle_track(2.0, fps=30, seed=1, gaze_target=(0.1, 0.0, 1.0))
    assert idle.codes.shape == (60, 24) and idle.pose.shape == (60, 6)
