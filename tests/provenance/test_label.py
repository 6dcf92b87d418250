"""The visible label: wording by locale, legible size, kept off the face."""

from __future__ import annotations

import numpy as np
import pytest

from generation.provenance import label

from .media import astronaut


def _ink_rows(rgb: np.ndarray, box) -> int:
    """Height in pixels of the white glyphs inside the label's box."""
    x0, y0, x1, y1 = box
    white = (rgb[y0:y1, x0:x1] > 200).all(axis=2)
    rows = np.flatnonzero(white.any(axis=1))
    return int(rows[-1] - rows[0] + 1) if len(rows) else 0


@pytest.mark.parametrize("locale,lang,text", [("en_US.UTF-8", "en", "AI-generated likeness"),
                                              ("zh_CN.UTF-8", "zh", "AI生成"), ("zh-TW", "zh", "AI生成"),
                                              ("de_DE.UTF-8", "en", "AI-generated likeness"), ("", "en", None)])
def test_language_follows_locale(locale, lang, text):
    assert label.language(locale) == lang
    if text:
        assert label.TEXTS[lang] == text


def test_language_defaults_to_lang_env(monkeypatch):
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert label.language(None) == "zh"


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", [(360, 640), (720, 1280), (600, 512), (1080, 1080)])
def test_text_is_at_least_5_percent_of_the_shorter_side(lang, size):
    gray = np.full((*size, 3), 90, np.uint8)
    out, box = label.draw(gray, lang)
    assert _ink_rows(out, box) >= label.MIN_HEIGHT_FRACTION * min(size)
    if lang == "zh":
        assert label.font_for("zh")[1] == "zh", "a CJK font (fonts-wqy-microhei) is needed for the Chinese label"


def test_label_avoids_the_face():
    rgb = astronaut()
    face = (150, 30, 330, 250)
    _, box = label.draw(rgb, "en", face)
    assert label._overlap(box, face) == 0
    assert box[1] > 256  # the face is at the top, so the label goes to the bottom
    # without a face the label sits at the top, clear of subtitles
    _, box = label.draw(rgb, "en", None)
    assert box[1] < 30


def test_label_changes_only_its_box():
    rgb = astronaut()
    out, (x0, y0, x1, y1) = label.draw(rgb, "en")
    changed = np.argwhere((out != rgb).any(axis=2))
    assert changed[:, 0].min() >= y0 and changed[:, 0].max() < y1
    assert changed[:, 1].min() >= x0 and changed[:, 1].max() < x1


def test_image_too_small_for_a_legible_label():
    with pytest.raises(ValueError, match="too small"):
        label.draw(np.zeros((64, 40, 3), np.uint8), "en")
