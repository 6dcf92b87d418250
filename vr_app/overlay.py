"""The 2D overlay: the persistent 'AI-generated likeness' label, subtitles, and the intro card."""

from __future__ import annotations

import textwrap

from panda3d.core import CardMaker, NodePath, TextNode, TransparencyAttrib

LABEL = "AI-generated likeness"


def _text(parent: NodePath, name: str, scale: float, align=TextNode.A_center) -> tuple[TextNode, NodePath]:
    tn = TextNode(name)
    tn.set_align(align)
    tn.set_text_color(1, 1, 1, 1)
    np_ = parent.attach_new_node(tn)
    np_.set_scale(scale)
    return tn, np_


class Overlay:
    """Everything drawn over the room; `aspect` is width/height of the output."""

    def __init__(self, aspect2d: NodePath, aspect: float, title: str = "", height_px: int = 720):
        self.root = aspect2d.attach_new_node("overlay")
        self.root.set_transparency(TransparencyAttrib.M_alpha)
        self.aspect = aspect
        # Label: bottom-right, small, on a dark translucent card so it reads on any background.
        px = 2.0 / max(height_px, 1)  # one pixel in overlay units: text keeps a legible minimum height
        self.label, self.label_np = _text(self.root, "label", max(0.05, 12 * px), TextNode.A_right)
        self.label.set_text(LABEL)
        self.label.set_card_color(0, 0, 0, 0.55)
        self.label.set_card_as_margin(0.4, 0.4, 0.25, 0.15)
        self.label_np.set_pos(aspect - 0.05, 0, -1 + max(0.05, 5 * px))
        self.label_np.set_bin("fixed", 100)
        # Subtitles: bottom centre, above the label.
        self.subtitle, self.subtitle_np = _text(self.root, "subtitle", max(0.065, 12 * px))
        self.subtitle.set_card_color(0, 0, 0, 0.5)
        self.subtitle.set_card_as_margin(0.5, 0.5, 0.2, 0.1)
        self.subtitle.set_shadow(0.04, 0.04)
        self.subtitle_np.set_pos(0, 0, -0.72)
        self.subtitles_on = True
        # Intro card: full screen, dark, fades out before the person appears.
        cm = CardMaker("intro")
        cm.set_frame(-aspect, aspect, -1, 1)
        self.intro = self.root.attach_new_node(cm.generate())
        self.intro.set_color(0.03, 0.025, 0.02, 1)
        self.intro.set_bin("fixed", 50)
        intro_text, self.intro_text_np = _text(self.intro, "intro-text", 0.07)
        intro_text.set_wordwrap(24)
        intro_text.set_text(f"In memory of {title}\n\n" if title else "")
        notice, notice_np = _text(self.intro, "intro-notice", 0.06)
        notice.set_wordwrap(32)
        notice.set_text_color(0.85, 0.82, 0.76, 1)
        # True for every subject, whatever the consent basis (the demo's is a public-domain portrait).
        notice.set_text("What follows is an AI-generated likeness, not the person.\n"
                        "It speaks only words that someone wrote down for it, or that were recorded.")
        self.intro_text_np.set_pos(0, 0, 0.25)
        notice_np.set_pos(0, 0, -0.1)
        self.intro.hide()

    def set_subtitle(self, text: str) -> None:
        text = text if self.subtitles_on else ""
        wrapped = "\n".join(textwrap.wrap(text, 48))
        if wrapped != self.subtitle.get_text():
            self.subtitle.set_text(wrapped)
        self.subtitle_np.show() if wrapped else self.subtitle_np.hide()

    def set_intro(self, alpha: float) -> None:
        """Intro card opacity 0..1 (hidden at 0)."""
        if alpha <= 0:
            self.intro.hide()
        else:
            self.intro.show()
            self.intro.set_alpha_scale(min(alpha, 1.0))
