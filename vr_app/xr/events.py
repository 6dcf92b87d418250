"""A tiny event hub so the XR layer can tell scene code what happened (select, hold, pause)
without Panda3D's global messenger."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

from panda3d.core import LPoint3f, NodePath


@dataclass
class XrEvent:
    """kind: 'select', 'hold', 'release', 'pause', 'resume', 'teleport', 'recenter',
    'detail' (governor level in `value`), 'session' (state name in `value`)."""

    kind: str
    hand: str = ""
    node: NodePath | None = None
    point: LPoint3f | None = None
    value: object = None


class EventHub:
    def __init__(self):
        self._handlers: dict[str, list[Callable[[XrEvent], None]]] = defaultdict(list)
        self.log: list[XrEvent] = []

    def on(self, kind: str, handler: Callable[[XrEvent], None]) -> None:
        self._handlers[kind].append(handler)

    def emit(self, event: XrEvent) -> None:
        self.log.append(event)
        del self.log[:-256]
        for handler in list(self._handlers[event.kind]):
            handler(event)
