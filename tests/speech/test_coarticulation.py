import numpy as np

from generation.speech import coarticulation, visemes

P = visemes.MOUTH.index("mouth_press")
JAW = visemes.MOUTH.index("jaw_open")


def timeline(spec):
    """[(phoneme, seconds)] -> (start, end, phoneme, viseme) list."""
    out, t = [], 0.0
    for ph, d in spec:
        out.append((t, t + d, ph, visemes.viseme_of(ph)))
        t += d
    return out


def test_viseme_mapping_covers_ipa_and_unknown_symbols():
    assert visemes.viseme_of("m") == "PP" and visemes.viseme_of("b") == "PP"
    assert visemes.viseme_of("ɑː") == "aa" and visemes.viseme_of("uː") == "U" and visemes.viseme_of("ʃ") == "CH"
    assert visemes.viseme_of(" ") == "sil" and visemes.viseme_of(".") == "sil"
    assert visemes.viseme_of("ü3") in visemes.VISEMES  # pinyin-like symbol from another voice still maps
    assert visemes.is_modifier("ˈ") and visemes.is_modifier("ː") and not visemes.is_modifier("a")


def test_mouth_closes_on_bilabial_and_opens_on_open_vowel():
    tl = timeline([(" ", 0.3), ("m", 0.08), ("ɑ", 0.2), ("p", 0.08), ("ɑ", 0.2), (" ", 0.3)])
    times = np.arange(0, 1.16, 1 / 100)
    m = coarticulation.mouth_curves(tl, times)
    at = lambda t: m[int(round(t * 100))]  # noqa: E731
    assert at(0.34)[P] > 0.7 and at(0.34)[JAW] < 0.25  # during "m": lips shut, jaw mostly up
    assert at(0.48)[JAW] > 0.5 and at(0.48)[P] < 0.2  # during 'ɑ'
    assert at(0.56)[P] > 0.6  # closure just before the 'p' burst at 0.58
    assert at(0.1)[JAW] < 0.05 and at(1.1)[JAW] < 0.05  # rest in silence


def test_coarticulation_blends_instead_of_snapping():
    tl = timeline([(" ", 0.2), ("ɑ", 0.12), ("u", 0.12), ("ɑ", 0.12), ("i", 0.12), (" ", 0.2)])
    times = np.arange(0, 0.9, 1 / 30)
    m = coarticulation.mouth_curves(tl, times)
    # the snapped version (each frame takes its phoneme's target) jumps far more
    snapped = np.stack([visemes.target(next((p[3] for p in tl if p[0] <= t < p[1]), "sil")) for t in times])
    assert np.abs(np.diff(m, axis=0)).max() < 0.6 * np.abs(np.diff(snapped, axis=0)).max()
    # a neighbouring rounded vowel pulls the open vowel's frames toward rounding
    pucker = visemes.MOUTH.index("mouth_pucker")
    assert m[int(0.3 * 30), pucker] > 0.05


def test_short_word_gaps_do_not_close_the_mouth():
    tl = timeline([("ɑ", 0.15), (" ", 0.05), ("ɑ", 0.15)])
    m = coarticulation.mouth_curves(tl, np.array([0.175]))
    assert m[0, JAW] > 0.5
