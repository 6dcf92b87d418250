"""The shell's own texture layout: texels spread by surface, not by the photo's projection.

The shell's front is a height field over its photo. Laid out as the photo sees it, a side that
curves away from the camera (the hair over the ears, the ears, the neck's sides) gets only the few
photo pixels it covers, in texels and in grid cells: seen turned, the ear is a handful of coarse
facets with its colours stretched across them. Here each row of the shell is laid out by its arc
length across the surface (slopes capped, so the silhouette's vertical rim does not take the whole
row), and the grid's vertices sit at even steps of that length: the sides get the texels and the
facets their area needs, while what faces the camera keeps the photo's own density. Rows only:
vertical slopes (the crown, under the chin) keep the photo's rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SLOPE_MAX = 4.0  # depth change per pixel across counted at most (76 degrees from facing the camera)
SMOOTH_PX = 3.0  # photo pixels: the stretch is smoothed so neighbouring rows and columns agree


@dataclass(frozen=True)
class SurfaceLayout:
    """Per photo row of the box, the arc length (in photo pixels) from the centre column to each column."""

    box: tuple[int, int, int, int]  # x0, y0, x1, y1 photo pixels (index coordinates)
    length: np.ndarray  # [y1-y0, x1-x0] arc length of each pixel from the centre column, signed
    start: float  # the smallest arc length of any row (the layout's left edge)
    span: float  # the layout's width in arc-length pixels

    @classmethod
    def of(cls, front: np.ndarray, s: float, box: tuple[int, int, int, int], centre_x: float) -> SurfaceLayout:
        """`front` [H,W]: camera depth (metres) of the surface over each photo pixel; `s` pixels per metre."""
        import cv2

        x0, y0, x1, y1 = box
        depth = np.asarray(front[y0:y1, x0:x1], np.float64) * s  # pixels
        slope = np.minimum(np.abs(np.diff(depth, axis=1)), SLOPE_MAX)
        stretch = np.sqrt(1.0 + slope ** 2).astype(np.float32)
        stretch = cv2.GaussianBlur(stretch, (0, 0), SMOOTH_PX)
        length = np.concatenate([np.zeros((len(depth), 1)), np.cumsum(stretch, axis=1, dtype=np.float64)], 1)
        c = int(np.clip(round(centre_x) - x0, 0, x1 - x0 - 1))
        length -= length[:, c:c + 1]
        start = float(length[:, 0].min())
        return cls(box, length, start, max(float(length[:, -1].max()) - start, 1.0))

    def _row(self, y: float) -> np.ndarray:
        return self.length[int(np.clip(round(y) - self.box[1], 0, len(self.length) - 1))]

    def columns(self, lengths: np.ndarray, y: float) -> np.ndarray:
        """Photo x [N] of the points at arc lengths `lengths` along photo row `y`; past the row's ends
        (off the box, beside the person) one pixel per unit of length."""
        row = self._row(y)
        xs = self.box[0] + np.arange(len(row), dtype=np.float64)
        lengths = np.asarray(lengths, np.float64)
        x = np.interp(lengths, row, xs)
        return np.where(lengths < row[0], xs[0] + lengths - row[0],
                        np.where(lengths > row[-1], xs[-1] + lengths - row[-1], x))

    def u(self, lengths: np.ndarray) -> np.ndarray:
        """Texture u (0..1 across the layout) of arc lengths."""
        return (np.asarray(lengths, np.float64) - self.start) / self.span

    def texel_pixels(self, tw: int, th: int) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) [th,tw]: the photo pixel under each texel's centre."""
        _, y0, _, y1 = self.box
        lengths = self.start + (np.arange(tw) + 0.5) * self.span / tw
        ys = y0 + (np.arange(th) + 0.5) * (y1 - y0) / th
        mx = np.stack([self.columns(lengths, y) for y in ys]).astype(np.float32)
        return mx, np.repeat(ys.astype(np.float32)[:, None], tw, 1)


def sample(image: np.ndarray, mx: np.ndarray, my: np.ndarray, scale: float, nearest: bool = False) -> np.ndarray:
    """`image` [H,W,...] read at photo pixels (mx, my) [th,tw]. Where the texture is coarser than the
    photo (`scale` < 1 texel per pixel) the photo is first averaged down, so no detail aliases."""
    import cv2

    src = np.ascontiguousarray(image)
    if src.dtype == bool:
        src = src.astype(np.uint8)
    if scale < 1:
        size = (max(1, round(src.shape[1] * scale)), max(1, round(src.shape[0] * scale)))
        src = cv2.resize(src, size, interpolation=cv2.INTER_AREA if not nearest else cv2.INTER_NEAREST)
        mx, my = (mx + 0.5) * scale - 0.5, (my + 0.5) * scale - 0.5
    return cv2.remap(src, mx.astype(np.float32), my.astype(np.float32),
                     cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
