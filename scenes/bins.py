"""The project's own cull bins, in one place. Panda3D's bins are global to the process, so each is
registered on first use, placed by Panda's own opaque and transparent bins:

- ROOM, just before the opaque bin, nearest first: the room's solid things. The software renderer
  shades each pixel a triangle covers unless the depth test rejects it first, so drawing the hedge
  after the plinth, the trees and the tables skips what they hide (the opaque bin orders by render
  state, which saves state changes on a GPU and nothing here). The bust stays in the opaque bin.
- EYES, just after the opaque bin (the head and its lids first), in a fixed order: the eye's parts tie
  in the software renderer's 16-bit depth buffer and the part drawn first wins, so in the opaque bin
  (ordered by the states' addresses) the same face drew different eye pixels after other work.
- SKY, after those and before anything blended: the depth test skips the sky where the room stands,
  instead of the room painting over a full-screen sky (the sky lies beyond everything, same pixels).
"""

from __future__ import annotations

from panda3d.core import CullBinManager

ROOM, EYES, SKY = "room", "eyes", "sky"


def cull_bin(name: str) -> str:
    """`name` (ROOM, EYES or SKY), registered with Panda if this process has not yet."""
    bins = CullBinManager.get_global_ptr()
    if bins.find_bin(name) < 0:
        opaque, transparent = (bins.get_bin_sort(bins.find_bin(b)) for b in ("opaque", "transparent"))
        kind, sort = {ROOM: (CullBinManager.BT_front_to_back, opaque - 1),
                      EYES: (CullBinManager.BT_fixed, opaque + 1),
                      SKY: (CullBinManager.BT_unsorted, (opaque + transparent) // 2)}[name]
        bins.add_bin(name, kind, sort)
    return name
