"""Pointing with a controller: a collision ray from each aim anchor finds what the user points
at; the trigger selects it, the grip holds it. Scene code marks nodes with tags:

- `node.set_tag(SELECTABLE, "candle-1")`: the trigger emits a 'select' event with that node;
- `node.set_tag(HOLDABLE, "photo-3")`: the grip parents it to the hand until released;
- `node.set_tag(FLOOR, "1")`: the teleport button moves a standing user there.
"""

from __future__ import annotations

from panda3d.core import (BitMask32, CollisionHandlerQueue, CollisionNode, CollisionRay, GeomNode,
                          CollisionTraverser, NodePath)

from . import actions as A
from .anchors import XrAnchors
from .events import EventHub, XrEvent

SELECTABLE = "memorial_selectable"
HOLDABLE = "memorial_holdable"
FLOOR = "memorial_floor"
PINCH_METRES = 0.02
THUMB_TIP, INDEX_TIP = 5, 10  # XR_EXT_hand_tracking joint indices


def _tagged(node: NodePath, tag: str) -> NodePath | None:
    found = node.find_net_tag(tag)
    return None if found.is_empty() else found


class Pointers:
    """Rays from both aim anchors; `update` turns this frame's action values into events."""

    def __init__(self, scene: NodePath, anchors: XrAnchors, hub: EventHub, max_distance: float = 10.0):
        self.scene, self.anchors, self.hub = scene, anchors, hub
        self.traverser = CollisionTraverser("xr-pointers")
        self.queue = CollisionHandlerQueue()
        self.rays: dict[str, NodePath] = {}
        self.max_distance = max_distance
        self.edges = {(h, a): A.Edge() for h in ("left", "right") for a in (A.SELECT, A.HOLD, A.TELEPORT, "pinch")}
        self.held: dict[str, tuple[NodePath, NodePath]] = {}  # hand -> (node, former parent)
        for hand in ("left", "right"):
            node = CollisionNode(f"xr-ray-{hand}")
            node.add_solid(CollisionRay(0, 0, 0, 0, 1, 0))  # +Y: the aim direction in Panda3D axes
            node.set_from_collide_mask(GeomNode.get_default_collide_mask() | CollisionNode.get_default_collide_mask())
            node.set_into_collide_mask(BitMask32.all_off())
            self.rays[hand] = anchors.aim(hand).attach_new_node(node)
            self.traverser.add_collider(self.rays[hand], self.queue)

    def hits(self) -> dict[str, tuple[NodePath, object]]:
        """hand -> (nearest hit node, hit point in scene space), for tracked hands only."""
        self.queue.clear_entries()
        self.traverser.traverse(self.scene)
        self.queue.sort_entries()
        nearest: dict[str, tuple[NodePath, object]] = {}
        for entry in self.queue.entries:
            hand = entry.get_from_node().name.rsplit("-", 1)[-1]
            if hand in nearest or self.anchors.aim(hand).is_hidden():
                continue
            point = entry.get_surface_point(self.scene)
            if (point - self.anchors.aim(hand).get_pos(self.scene)).length() <= self.max_distance:
                nearest[hand] = (entry.get_into_node_path(), point)
        return nearest

    def update(self, values: dict[tuple[str, str], float], focused: bool) -> None:
        """values: (hand, action) -> this frame's value. Input counts only with focus."""
        if not focused:
            values = {}
        hits = None
        for hand in ("left", "right"):
            select = max(values.get((hand, A.SELECT), 0.0), values.get((hand, "pinch"), 0.0))
            select_edge = self.edges[(hand, A.SELECT)].update(select)
            hold_edge = self.edges[(hand, A.HOLD)].update(values.get((hand, A.HOLD), 0.0))
            teleport_edge = self.edges[(hand, A.TELEPORT)].update(values.get((hand, A.TELEPORT), 0.0))
            if select_edge == "press" or hold_edge == "press" or teleport_edge == "press":
                hits = self.hits() if hits is None else hits
                target = hits.get(hand)
                if target is not None:
                    self._act(hand, target, select_edge, hold_edge, teleport_edge)
            if hold_edge == "release" and hand in self.held:
                node, parent = self.held.pop(hand)
                node.wrt_reparent_to(parent)
                self.hub.emit(XrEvent("release", hand, node))

    def _act(self, hand, target, select_edge, hold_edge, teleport_edge) -> None:
        node, point = target
        if select_edge == "press" and (found := _tagged(node, SELECTABLE)) is not None:
            self.hub.emit(XrEvent("select", hand, found, point, found.get_tag(SELECTABLE)))
        if hold_edge == "press" and hand not in self.held and (found := _tagged(node, HOLDABLE)) is not None:
            self.held[hand] = (found, found.get_parent())
            found.wrt_reparent_to(self.anchors.hand(hand))
            self.hub.emit(XrEvent("hold", hand, found, point, found.get_tag(HOLDABLE)))
        if teleport_edge == "press" and _tagged(node, FLOOR) is not None:
            self.hub.emit(XrEvent("teleport", hand, node, point))


def pinch_strength(joints) -> float:
    """1.0 when thumb and index tips touch, falling to 0 at 5 cm: hand tracking's trigger."""
    if joints is None:
        return 0.0
    t, i = joints[THUMB_TIP].position, joints[INDEX_TIP].position
    d = sum((a - b) ** 2 for a, b in zip(t, i)) ** 0.5
    return max(0.0, min(1.0, (0.05 - d) / (0.05 - PINCH_METRES)))
