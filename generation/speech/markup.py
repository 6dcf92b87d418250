"""Prosody markup in authored lines: `[pause 0.5]`, `[smile]` … `[/smile]`.

A `[smile]` lasts until `[/smile]` or the end of its sentence. Anything else in square
brackets is refused with its position, so a typo never gets read aloud.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assets.errors import UsageError

MAX_PAUSE_S = 5.0
_TAG = re.compile(r"\[([^\[\]]*)\]")
_SENTENCE_END = re.compile(r"[.!?。！？]\s*$")


@dataclass(frozen=True)
class Text:
    text: str
    smile: bool = False


@dataclass(frozen=True)
class Pause:
    seconds: float


def parse(line: str) -> list[Text | Pause]:
    """Split an authored line into spoken pieces and pauses."""
    items: list[Text | Pause] = []
    smile = False
    pos = 0

    def add_text(s: str, at: int) -> None:
        nonlocal smile
        stray = re.search(r"[\[\]]", s)
        if stray:
            raise UsageError(f"unbalanced square bracket at character {at + stray.start()} "
                             "(markup looks like [pause 0.5])")
        if not s.strip():
            return
        # a smile ends with the sentence it starts in
        for part in re.split(r"(?<=[.!?。！？])\s+", s):
            if part.strip():
                items.append(Text(part.strip(), smile))
                if _SENTENCE_END.search(part):
                    smile = False

    for m in _TAG.finditer(line):
        add_text(line[pos:m.start()], pos)
        pos = m.end()
        tag = m.group(1).strip().lower()
        parts = tag.split()
        if tag == "smile":
            smile = True
        elif tag == "/smile":
            smile = False
        elif parts and parts[0] == "pause":
            try:
                seconds = float(parts[1]) if len(parts) == 2 else -1.0
            except ValueError:
                seconds = -1.0
            if not 0 < seconds <= MAX_PAUSE_S:
                raise UsageError(f"bad pause '{m.group(0)}' at character {m.start()}: "
                                 f"give seconds between 0 and {MAX_PAUSE_S:g}, e.g. [pause 0.5]")
            items.append(Pause(seconds))
        else:
            raise UsageError(f"unknown markup '{m.group(0)}' at character {m.start()} "
                             "(known: [smile], [/smile], [pause SECONDS])")
    add_text(line[pos:], pos)
    # merge neighbours with the same smile so a sentence is spoken in one breath
    merged: list[Text | Pause] = []
    for it in items:
        if merged and isinstance(it, Text) and isinstance(merged[-1], Text) and merged[-1].smile == it.smile:
            merged[-1] = Text(merged[-1].text + " " + it.text, it.smile)
        else:
            merged.append(it)
    return merged


def spoken_text(items: list[Text | Pause]) -> str:
    return " ".join(it.text for it in items if isinstance(it, Text))
