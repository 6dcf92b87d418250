"""The visible (explicit) label: "AI-generated likeness" in the user's language, away from the face.

China's labelling measures ask for a perceptible label and the EU AI Act for disclosure; we
draw it on every image and video frame, at least 5 % of the shorter side tall, in a dark
box so it reads on any background, in the corner that overlaps the face least.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TEXTS = {
    "en": "AI-generated likeness",
    "zh": "AI生成",
}
MIN_HEIGHT_FRACTION = 0.05  # the floor for legibility
HEIGHT_FRACTION = 0.055  # what we draw: a little above the floor, measured on the glyphs
MARGIN_FRACTION = 0.02
FACE_PAD = 0.15  # of the face box's size, added on every side

_CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels


def language(locale: str | None) -> str:
    """'zh' for Chinese locales (zh_CN.UTF-8, zh-TW, zh...), else 'en'."""
    locale = locale if locale is not None else (os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES")
                                                or os.environ.get("LANG") or "")
    return "zh" if locale.lower().replace("-", "_").startswith("zh") else "en"


def _latin_font() -> str:
    import matplotlib

    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf")


def font_for(lang: str) -> tuple[str, str]:
    """(font path, language actually used): Chinese needs a CJK font; without one we fall back
    to the English label rather than draw empty boxes."""
    if lang == "zh":
        for path in _CJK_FONTS:
            if Path(path).exists():
                return path, "zh"
    return _latin_font(), "en"


@dataclass(frozen=True)
class LabelPatch:
    rgb: np.ndarray  # [h,w,3] uint8
    alpha: np.ndarray  # [h,w,1] float32 in 0..1
    text: str
    text_height: int  # pixel height of the drawn glyphs (ink), for the 5 % check


@functools.lru_cache(maxsize=16)
def render_patch(lang: str, shorter_side: int) -> LabelPatch:
    """The label as a small RGBA patch, sized for an image whose shorter side is `shorter_side`."""
    from PIL import Image, ImageDraw, ImageFont

    font_path, lang = font_for(lang)
    text = TEXTS[lang]
    want = max(8, int(np.ceil(shorter_side * HEIGHT_FRACTION)))
    size = want
    for _ in range(6):  # font size -> ink height is not 1:1; adjust until the glyphs are tall enough
        font = ImageFont.truetype(font_path, size)
        x0, y0, x1, y1 = font.getbbox(text)
        ink = y1 - y0
        if ink >= want:
            break
        size = int(np.ceil(size * want / max(ink, 1))) + 1
    pad = max(2, want // 3)
    w, h = x1 - x0 + 2 * pad, y1 - y0 + 2 * pad
    image = Image.new("RGBA", (w, h), (20, 20, 24, 190))
    ImageDraw.Draw(image).text((pad - x0, pad - y0), text, font=font, fill=(255, 255, 255, 255))
    arr = np.asarray(image)
    return LabelPatch(rgb=arr[:, :, :3].copy(), alpha=(arr[:, :, 3:4].astype(np.float32) / 255.0),
                      text=text, text_height=ink)


def _overlap(a: Box, b: Box) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(0.0, w) * max(0.0, h)


def place(image_hw: tuple[int, int], patch_hw: tuple[int, int], face_box: Box | None) -> tuple[int, int]:
    """Top-left (x, y) of the label: the first corner that misses the face, else the one that
    covers least of it. Top corners come first because subtitles and captions sit at the bottom."""
    H, W = image_hw
    h, w = patch_hw
    m = max(2, int(min(H, W) * MARGIN_FRACTION))
    spots = [(m, m), (W - w - m, m), (m, H - h - m), (W - w - m, H - h - m),
             ((W - w) // 2, m), ((W - w) // 2, H - h - m)]
    spots = [(max(0, x), max(0, y)) for x, y in spots]
    if face_box is None:
        return spots[0]
    # Landmark boxes are tight (brows to chin): keep clear of hair and forehead too.
    pad = m + FACE_PAD * max(face_box[2] - face_box[0], face_box[3] - face_box[1])
    grown = (face_box[0] - pad, face_box[1] - pad, face_box[2] + pad, face_box[3] + pad)
    return min(spots, key=lambda s: _overlap((s[0], s[1], s[0] + w, s[1] + h), grown))


def draw(rgb: np.ndarray, lang: str, face_box: Box | None = None) -> tuple[np.ndarray, Box]:
    """Return (labelled copy of rgb [H,W,3] uint8, the label's box)."""
    assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype == np.uint8, (rgb.shape, rgb.dtype)
    H, W = rgb.shape[:2]
    patch = render_patch(lang, min(H, W))
    h, w = patch.rgb.shape[:2]
    if w > W or h > H:
        raise ValueError(f"image {W}x{H} is too small for a legible label")
    x, y = place((H, W), (h, w), face_box)
    out = rgb.copy()
    region = out[y:y + h, x:x + w].astype(np.float32)
    out[y:y + h, x:x + w] = np.rint(region * (1 - patch.alpha) + patch.rgb * patch.alpha).astype(np.uint8)
    return out, (x, y, x + w, y + h)
