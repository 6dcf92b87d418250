"""A speaker-independent audio -> mouth prior, made from speech the project synthesises itself.

The packaged piper voice speaks a fixed set of sentences; its phoneme timings give the
viseme timeline and so the mouth curves by construction (coarticulation.mouth_curves,
the same curves an authored line gets). Each sentence is also replayed faster and slower
(resampling shifts pitch and formants together, and the timeline scales with it), and every
clip is also read through vocal-tract-length warps (audio_model.mel_filters): the packaged
voice is one man (pitch about 90 Hz), so without them a woman's or a child's formants lie
outside everything the prior heard. Nothing is downloaded; the same seed gives the same prior.
"""

from __future__ import annotations

import numpy as np

from assets.signal import resample

from . import audio_model, coarticulation

SENTENCES = (
    "We walked along the river until the sun went down behind the hills.",
    "Please pass me the blue cup and the big plate of warm bread.",
    "My father fixed old watches at the kitchen table every Friday.",
    "Would you like some apple pie, or maybe a bowl of soup?",
    "The children laughed and splashed in the cool water all afternoon.",
    "I know you will be brave, and I am very proud of you.",
    "Thank you for coming today; it really means so much to me.",
    "Open the window and let the fresh morning air into the room.",
    "She bought plums, peaches and a bunch of purple grapes at the market.",
    "Our town needs good schools, safe roads and fair pay for every worker.",
    "Who would have thought that such a small voice could change so much?",
    "Remember to call your grandmother on Sunday evening.",
    "The old oak tree in the yard was planted before the war.",
    "Boats bobbed gently by the pier while the fishermen mended their nets.",
    "Lunch is at noon, so do not be late, and bring your umbrella.",
    "I loved our long drives to the ocean every August.",
    "Each morning she made strong coffee and read the paper aloud.",
    "Music filled the hall and everybody stood up to dance.",
    "You have always been the light of my life, my dear.",
    "Happy birthday, sweetheart, I wish I could be there with you.",
)
SPEEDS = (0.9, 1.0, 1.12, 1.25)
# formants (and harmonics) raised by these factors at unchanged timing: an adult woman's vocal tract is
# about 15 % shorter than a man's. Chosen on the shared clip's training 6 s (5-fold replay CV, median of 3
# seed groups: pooled r 0.503 -> 0.523, fold-median 0.502 -> 0.553; a fourth warp 1.3 added nothing).
WARPS = (1.0, 1.1, 1.2)
STEP_S = 0.02  # one training pair every 20 ms of speech


def tts_pairs(sentences=SENTENCES, speeds=SPEEDS, voice=None, progress=None, warps=WARPS,
              ) -> tuple[np.ndarray, np.ndarray]:
    """Windows [N,N_MELS,WIN] and mouth targets [N,6] from synthesised speech."""
    from . import tts

    xs, ys = [], []
    bar = progress(total=len(sentences), desc="prior speech") if progress else None
    for line in sentences:
        speech = tts.speak(line, voice, steady=True)  # a deterministic prior: the same lead every run
        for speed in speeds:
            # played `speed` times faster: sample k of the new clip is sample k*speed of the original
            audio = resample(speech.audio, int(round(speech.sample_rate * speed)), speech.sample_rate)
            dur = len(audio) / speech.sample_rate
            times = np.arange(STEP_S, dur - STEP_S, STEP_S)
            mouth = coarticulation.mouth_curves(speech.phonemes, times * speed)
            power = audio_model.power_spectrum(audio, speech.sample_rate)  # once: only the filterbank warps
            for warp in warps:
                xs.append(audio_model.windows(audio_model.features(audio, speech.sample_rate, warp, power), times))
                ys.append(mouth)
        if bar:
            bar.update(1)
    if bar:
        bar.close()
    return np.concatenate(xs), np.concatenate(ys).astype(np.float32)


def train_priors(steps: int = 1500, seeds=(0,), sentences=SENTENCES, progress=None) -> tuple[list[dict], tuple]:
    """(one prior checkpoint per seed, their shared training pairs) - the pairs are reused to keep
    adaptation honest. The speech is synthesised once; the seeds draw each net's start and batches."""
    x, y = tts_pairs(sentences, progress=progress)
    return [audio_model.train(x, y, steps=steps, seed=s, progress=progress) for s in seeds], (x, y)
