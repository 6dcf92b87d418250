"""The desktop room's controls beyond candles: a line to write a note on, and the key help.

Built from Panda3D's own PGEntry (what DirectEntry wraps) on the stage's 2D overlay, so it
needs no ShowBase globals and draws the same in a window and offscreen.
"""

from __future__ import annotations

from collections.abc import Callable

from panda3d.core import NodePath, PGEntry, PGFrameStyle, TextNode

ENTRY_COLOR = (0.16, 0.22, 0.42, 0.92)  # a dark blue band: the typed words stay readable on any scene
TEXT_COLOR = (1.0, 1.0, 1.0, 1.0)
HELP = "c candle   x put out   n write a note   p place a photo   esc leave"


class NoteEntry:
    """A one-line box at the bottom of the window. `open()` shows it with the keyboard focus;
    `submit()` (Enter) hands the text to `on_submit` and closes it; `close()` (Esc) drops it."""

    def __init__(self, aspect2d: NodePath, aspect: float, on_submit: Callable[[str], bool]):
        self.on_submit = on_submit
        self.root = aspect2d.attach_new_node("note-entry")
        self.entry = PGEntry("note")
        self.entry.setup(2 * aspect / 0.05 - 4, 1)  # width in text units: nearly the window's width
        style = PGFrameStyle()
        style.set_type(PGFrameStyle.T_flat)
        style.set_color(*ENTRY_COLOR)
        style.set_width(0.4, 0.4)
        for state in range(self.entry.get_num_state_defs()):
            self.entry.set_frame_style(state, style)
        self.entry.set_max_chars(500)
        box = self.root.attach_new_node(self.entry)
        box.set_scale(0.05)
        box.set_pos(-aspect + 0.1, 0, -0.9)
        self.entry.get_text_def(0).set_text_color(*TEXT_COLOR)  # PGEntry's default text definition
        label = TextNode("note-prompt")
        label.set_text("Write a note — Enter leaves it in the room, Esc cancels")
        label.set_text_color(*TEXT_COLOR)
        label.set_shadow(0.05, 0.05)
        prompt = self.root.attach_new_node(label)
        prompt.set_scale(0.045)
        prompt.set_pos(-aspect + 0.1, 0, -0.8)
        self.root.hide()

    @property
    def is_open(self) -> bool:
        return not self.root.is_hidden()

    @property
    def text(self) -> str:
        return self.entry.get_plain_text()

    def open(self) -> None:
        self.entry.set_text("")
        self.root.show()
        self.entry.set_focus(True)

    def submit(self) -> None:
        if self.is_open:
            self.on_submit(self.text)
            self.close()

    def close(self) -> None:
        self.entry.set_focus(False)
        self.root.hide()


def desktop_keys(session, entry: NoteEntry, leave: Callable[[], None]) -> dict[str, Callable[[], None]]:
    """Key -> action for the desktop window (join.Session's actions). While the note box is open
    the letter keys type into it instead, and Esc closes the box rather than the room."""

    def unless_typing(action):
        return lambda: None if entry.is_open else action()

    return {"escape": lambda: entry.close() if entry.is_open else leave(),
            "enter": entry.submit,
            "c": unless_typing(session.light_candle),
            "x": unless_typing(session.put_out_candle),
            "n": unless_typing(entry.open),
            "p": unless_typing(session.place_next_photo)}


def key_help(aspect2d: NodePath, aspect: float) -> NodePath:
    """One line of key help in the window's top-left corner."""
    text = TextNode("room-keys")
    text.set_text(HELP)
    text.set_text_color(1, 1, 1, 0.85)
    text.set_shadow(0.05, 0.05)
    node = aspect2d.attach_new_node(text)
    node.set_scale(0.04)
    node.set_pos(-aspect + 0.05, 0, 0.92)
    return node
