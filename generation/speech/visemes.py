"""Phonemes -> visemes -> mouth targets in the expression code.

Fifteen visemes (the set most lip-sync tools share). IPA from espeak/piper is mapped
by symbol; symbols from other phoneme sets (pinyin voices, unknown languages) fall back
to "vowel-like" or "consonant-like" so any voice's phonemes still move the mouth.
"""

from __future__ import annotations

import unicodedata

import numpy as np

from assets import expression

MOUTH = ("jaw_open", "mouth_smile_l", "mouth_smile_r", "mouth_pucker", "mouth_funnel", "mouth_press")
MOUTH_IDX = np.array([expression.index(n) for n in MOUTH])

# viseme -> (jaw, smile, pucker, funnel, press), dominance (how strongly it resists neighbours)
VISEMES: dict[str, tuple[tuple[float, float, float, float, float], float]] = {
    "sil": ((0.00, 0.00, 0.00, 0.00, 0.00), 0.6),
    "PP": ((0.00, 0.00, 0.05, 0.00, 1.00), 5.0),  # lips must close: strong dominance
    "FF": ((0.08, 0.05, 0.00, 0.00, 0.40), 3.0),
    "TH": ((0.15, 0.05, 0.00, 0.00, 0.00), 1.0),
    "DD": ((0.18, 0.05, 0.00, 0.00, 0.00), 0.6),  # tongue consonants: lips follow the vowels
    "kk": ((0.22, 0.00, 0.00, 0.00, 0.00), 0.5),
    "CH": ((0.15, 0.00, 0.25, 0.60, 0.00), 2.5),
    "SS": ((0.08, 0.15, 0.00, 0.00, 0.00), 1.5),
    "nn": ((0.15, 0.05, 0.00, 0.00, 0.00), 0.6),
    "RR": ((0.15, 0.00, 0.35, 0.20, 0.00), 1.5),
    "aa": ((0.70, 0.05, 0.00, 0.00, 0.00), 1.2),
    "E": ((0.40, 0.12, 0.00, 0.00, 0.00), 1.0),
    "I": ((0.22, 0.30, 0.00, 0.00, 0.00), 1.2),
    "O": ((0.45, 0.00, 0.15, 0.65, 0.00), 1.5),
    "U": ((0.18, 0.00, 0.70, 0.20, 0.00), 1.8),
}

_IPA: dict[str, str] = {}
for _v, _chars in {
    "PP": "pbmɓʙ", "FF": "fvɱʋ", "TH": "θð", "DD": "tdlɾɫɗʈɖɭ", "nn": "nɲɳ",
    "kk": "kgɡŋxɣqɢhɦʔχʁħʕcɟç", "CH": "ʃʒʧʤɕʑʂʐ", "SS": "szʦʣ", "RR": "ɹrʀɻʁ",
    "aa": "aɑæʌɐɒä", "E": "ɛeəɜɚɝœɘɞ", "I": "iɪjyʏɨ", "O": "oɔøɤ", "U": "uʊwɯʉ",
}.items():
    for _c in _chars:
        _IPA[_c] = _v

SILENT = set(" ,.;:!?^$_-—…\"'()[]")
MODIFIERS = set("ˈˌːˑ̩̯̃͡‿↗↘|‖0123456789")  # stress, length, tones: no mouth shape of their own
VOWEL_LETTERS = set("aeiouyɑɐɒæɛəɜɪʊʌɔøœɯɤ")


def viseme_of(phoneme: str) -> str:
    """The viseme for one phoneme symbol (IPA or letters); 'sil' for pauses."""
    if not phoneme or all(c in SILENT for c in phoneme):
        return "sil"
    for c in unicodedata.normalize("NFD", phoneme):
        if c in _IPA:
            return _IPA[c]
    base = unicodedata.normalize("NFD", phoneme)[0].lower()
    return "E" if base in VOWEL_LETTERS else "DD"


def is_modifier(phoneme: str) -> bool:
    return bool(phoneme) and all(c in MODIFIERS for c in phoneme)


def target(viseme: str) -> np.ndarray:
    """Mouth targets [6] in MOUTH order (the smile value drives both corners)."""
    jaw, smile, pucker, funnel, press = VISEMES[viseme][0]
    return np.array([jaw, smile, smile, pucker, funnel, press], dtype=np.float32)


# Per-control exceptions (Cohen & Massaro give each articulator its own dominance): a lip
# closure must win on the lips, but the jaw only half-closes for it and follows the vowels.
CONTROL_DOMINANCE = {"PP": {"jaw_open": 1.2}, "FF": {"jaw_open": 0.8}}


def dominance(viseme: str) -> np.ndarray:
    """Dominance of this viseme on each mouth control, [6]."""
    d = np.full(len(MOUTH), VISEMES[viseme][1], dtype=np.float32)
    for name, value in CONTROL_DOMINANCE.get(viseme, {}).items():
        d[MOUTH.index(name)] = value
    return d
