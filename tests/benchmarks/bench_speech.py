"""Speech figures: TTS real-time factor and latency, track generation time, audio/visual offset.

Run: .venv/bin/python -m tests.benchmarks.bench_speech   (medians over a few lines; ~1 min)
"""

from __future__ import annotations

import statistics
import time

import numpy as np

LINES = [
    "Hello, my dear. I am so proud of you.",
    "Please bring my blue paper bag to the piano, Bob.",
    "Happy birthday! Remember the summer we spent by the sea, and the big boat we built.",
    "Be kind to each other, and take good care of your mother.",
    "My favourite place was the garden behind the house, where the apple trees grew.",
]


def main() -> None:
    from generation.speech import audio_model, sync, track, tts

    t0 = time.perf_counter()
    tts.get_voice(None)
    load = time.perf_counter() - t0
    rtf, gen, first, xcorr, release, lead = [], [], [], [], [], []
    for line in LINES:
        voice = tts.get_voice(None)
        t = time.perf_counter()
        phonemes = voice.phonemize(line)[0]
        voice.synthesize(phonemes)
        first.append(time.perf_counter() - t)  # latency to the first sentence's audio
        t = time.perf_counter()
        speech = tts.speak(line)
        synth = time.perf_counter() - t
        tk = track.speech_track(speech)
        total = time.perf_counter() - t
        rtf.append(synth / speech.duration)
        gen.append(total)
        xcorr.append(tk.meta["av_offset_ms"])  # measured by track.compose
        offs = sync.plosive_offsets_ms(tk)
        release += [r for r, _ in offs]
        lead += [p for _, p in offs]
    med = statistics.median
    print(f"voice load (in-memory alignment patch): {load:.2f} s")
    print(f"TTS real-time factor (median of {len(LINES)} lines): {med(rtf):.3f}  (target <= 0.15)")
    print(f"latency to first audio (one sentence): {med(first) * 1000:.0f} ms")
    print(f"track generation time (TTS + visemes + idle), median line: {med(gen):.2f} s")
    print(f"A/V offset, jaw-open vs speech envelope cross-correlation: median {med(xcorr):+.1f} ms, "
          f"worst {max(xcorr, key=abs):+.1f} ms  (+ = audio later; target |offset| <= 20 ms)")
    print(f"lip release vs bilabial burst onset ({len(release)} p/b): median {med(release):+.1f} ms, "
          f"10-90%: {np.percentile(release, 10):+.0f}..{np.percentile(release, 90):+.0f} ms "
          f"(ITU-R BT.1359 visible beyond -45/+125 ms)")
    print(f"lip closure peak before burst onset: median {med(lead):.0f} ms (closure visible before the sound)")

    audio, sr, times, y = audio_model.synthetic_pairs(40.0, seed=2)
    x = audio_model.windows(audio_model.features(audio, sr), times)
    cut = int(len(x) * 0.75)
    t = time.perf_counter()
    ckpt = audio_model.train(x[:cut], y[:cut], steps=300)
    train_s = time.perf_counter() - t
    pred = audio_model.predict(ckpt, audio, sr, times)[cut:]
    corr = np.corrcoef(pred[:, 0], y[cut:, 0])[0, 1]
    print(f"audio->expression model on SYNTHETIC aligned data (no talking video of a subject here): "
          f"held-out jaw correlation {corr:.2f}, training {train_s:.1f} s for {cut} frames")
    from generation.speech import audio_driven

    corr_sig = []
    for line in LINES:
        speech = tts.speak(line)
        tk = track.speech_track(speech)
        mouth = audio_driven.signal_mouth(speech.audio, speech.sample_rate, tk.fps, len(tk.codes))
        corr_sig.append(np.corrcoef(mouth[:, 0], tk.codes[:, 0])[0, 1])
    print(f"signal fallback vs phoneme-driven jaw on the same TTS audio: correlation {med(corr_sig):.2f} "
          "(median of lines)")
    talking_video_lipsync()
    retrieval_and_asr()


def talking_video_lipsync() -> None:
    """Per-subject model trained from vault data laid out as ingest stores it (a made talking video)."""
    import os
    import tempfile

    from generation.speech import recording
    from generation.vault import create_vault
    from generation.vault.consent import parse_consent
    from tests.conftest import consent_toml
    from tests.speech.test_subject_model import store_talking_video

    with tempfile.TemporaryDirectory() as home:
        os.environ["MEMORIAL_HOME"] = home
        with create_vault("bench", parse_consent(consent_toml()), "bench", "bench-passphrase-1") as vault:
            store_talking_video(vault, seconds=8.0)
            t = time.perf_counter()
            figures = recording.train_subject_model(vault, steps=300)
            took = time.perf_counter() - t
    print(f"lip-sync on held-out frames of a MADE talking video (Grace Hopper, warped mouth, synthetic voice): "
          f"jaw correlation {figures['heldout_jaw_corr']:.2f} ({figures['frames']} frames, {took:.1f} s)")


def retrieval_and_asr() -> None:
    from generation.speech import asr, memory, tts
    from tests.speech.test_memory import BANK, PARAPHRASES

    bank = [memory.Memory(str(i), k, t, "bench", "2026-01-01", c) for i, (k, t, c) in enumerate(BANK)]
    right = sum(memory.choose(bank, q)[0].text == BANK[k][1] for q, k in PARAPHRASES)
    print(f"retrieval ({memory.retrieval_method()}): {right}/{len(PARAPHRASES)} paraphrased questions "
          "found the right memory")
    # rewordings that share no content word with the memory's cue or text (the TF-IDF method misses these)
    reworded = [("Which tune did she adore?", 0), ("Name a melody you cherished", 0),
                ("What was your childhood home like?", 1), ("Where would the family vacation?", 2),
                ("Which dessert was a speciality of yours?", 3), ("What was your profession?", 4),
                ("Hey there, nice to meet you", 5)]
    right = sum(memory.choose(bank, q)[0].text == BANK[k][1] for q, k in reworded)
    print(f"retrieval ({memory.retrieval_method()}): {right}/{len(reworded)} rewordings with no shared words "
          "found the right memory")
    from generation.speech import embedding

    if embedding.available():
        embedding.load()
        sentences = [q for q, _ in PARAPHRASES + reworded] * 8
        t = time.perf_counter()
        embedding.encode(sentences)
        print(f"sentence embedding speed: {len(sentences) / (time.perf_counter() - t):.0f} sentences/s "
              "(MiniLM, 2 torch threads)")
    errors, words = 0.0, 0
    for q, _ in PARAPHRASES:
        speech = tts.speak(q)
        ref = " ".join(w.strip("?,.!").lower() for w in q.split())
        heard = asr.transcribe(speech.audio, speech.sample_rate)
        errors += asr.word_error_rate(ref, heard) * len(ref.split())
        words += len(ref.split())
    print(f"ASR word error rate ({asr.load().name}, {len(PARAPHRASES)} TTS-spoken questions, {words} words): "
          f"{errors / words:.1%}")


if __name__ == "__main__":
    main()
