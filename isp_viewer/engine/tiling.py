"""Running a network tile by tile so that the result equals one full-frame pass.

Geometry (all in input pixels; the output is the same picture times `scale`):
- The image is cut into even *cores* that partition it; inner core boundaries are multiples of
  `unit` (the CFA period and the network's size multiple), so every tile starts on the CFA phase
  of pixel (0, 0) and the network pads a border tile exactly as it pads the full frame.
- A tile's output is used over its core widened by `half` on each inner side; across each seam
  the two neighbours' weights ramp (linearly or as a raised cosine) from 1 to 0 over 2*half
  pixels. Weights are accumulated with the outputs and divided out at the end.
- The network receives that widened region plus `overlap` real neighbouring pixels of context
  on every side (rounded up to `unit`), clipped at the true image borders, where the network
  pads as it would for the whole frame. When `overlap` covers the receptive field, every output
  pixel that is kept saw exactly what it sees in a full-frame pass.
- A network that pads its own input (demosaicnet mirrors 32 px per side) would pad every tile
  on top of the real context the engine already supplies. With `takes_context`, infer is told
  how many real pixels lie at each side of the tile, pads only at true image borders and returns
  output for the widened region alone.

Out of memory: the tile side is halved (not below `min_tile`) and the tiles not yet run are
split; finished tiles are kept. If the minimum tile still fails, a fallback (e.g. the CPU) is
asked for; without one the error is raised as a ModelError.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable, Sequence

import cv2
import numpy as np

from isp_viewer.core.errors import ModelError
from isp_viewer.engine.devices import is_out_of_memory

Core = tuple[int, int, int, int]            # y0, y1, x0, x1 (half-open, input pixels)
Context = tuple[int, int, int, int]         # real neighbouring pixels at top, bottom, left, right
TileInfer = Callable[..., np.ndarray]       # infer(tile) or, with takes_context, infer(tile, context)
BLEND_MODES = ("cosine", "linear")


def round_up(value: int, unit: int) -> int:
    return -(-value // unit) * unit


def round_down(value: int, unit: int) -> int:
    return value // unit * unit


def alignment_unit(tile_align: int, size_multiple: int) -> int:
    """Tile origins and context widths are multiples of this: the CFA period and the size multiple."""
    return math.lcm(max(1, tile_align), max(1, size_multiple))


def split_axis(start: int, stop: int, tile: int, unit: int) -> list[tuple[int, int]]:
    """[start, stop) cut into ceil(length / tile) nearly equal pieces with boundaries on `unit`.

    `start` must be a multiple of unit (or 0); pieces may exceed `tile` by less than `unit`.
    """
    length = stop - start
    count = max(1, -(-length // max(tile, 1)))
    bounds = [start]
    for i in range(1, count):
        b = start + unit * round(i * length / count / unit)
        if bounds[-1] < b < stop:
            bounds.append(b)
    bounds.append(stop)
    return list(itertools.pairwise(bounds))


def plan_cores(region: Core, tile: int, unit: int) -> list[Core]:
    """Even cores covering `region`, row-major."""
    y0, y1, x0, x1 = region
    return [(a, b, c, d) for a, b in split_axis(y0, y1, tile, unit) for c, d in split_axis(x0, x1, tile, unit)]


def fewest_tiles(h: int, w: int, budget: int, margin: int) -> tuple[int, int]:
    """(rows, columns) of the grid of cores with at most `budget` pixels each whose tiles (cores
    plus `margin` of context at inner sides) hold the fewest pixels, i.e. the least work computed
    twice; ties go to fewer tiles. Rectangular cores: a 432x288 image under a 256x256 budget is
    2 tiles, not 4 squares."""
    best: tuple[int, int, int, int] | None = None   # (tile pixels, count, rows, columns)
    for rows in range(1, h + 1):
        core_h = -(-h // rows)
        if core_h > budget:
            continue
        cols = max(1, -(-w // max(1, budget // core_h)))
        while -(-h // rows) * -(-w // cols) > budget:
            cols += 1
        pixels = (h + 2 * margin * (rows - 1)) * (w + 2 * margin * (cols - 1))
        candidate = (pixels, rows * cols, rows, cols)
        if best is None or candidate < best:
            best = candidate
        if cols == 1:
            break   # more rows only add tiles
    assert best is not None
    return best[2], best[3]


def _ramp(t: np.ndarray, mode: str) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t if mode == "linear" else 0.5 - 0.5 * np.cos(np.pi * t)


def axis_weights(a: int, b: int, n: int, half: int, scale: int, mode: str = "cosine") -> tuple[int, int, np.ndarray]:
    """Blend weights along one axis for the core [a, b) of an axis of n input pixels.

    Returns (lo, hi, w): output indices [lo, hi) the tile contributes to and their weights. Inner
    sides ramp over [a - half, a + half) and [b - half, b + half); image borders get weight 1. For
    neighbouring cores the weights sum to 1 (t and 1 - t; a raised cosine likewise).
    """
    lo, hi = max(0, a - half) * scale, min(n, b + half) * scale
    u = (np.arange(lo, hi, dtype=np.float64) + 0.5) / scale  # output pixel centres in input coordinates
    w = np.ones(hi - lo)
    if half > 0 and a > 0:
        w *= _ramp((u - (a - half)) / (2 * half), mode)
    if half > 0 and b < n:
        w *= _ramp(((b + half) - u) / (2 * half), mode)
    return lo, hi, w.astype(np.float32)


class TiledRun:
    """One tiled pass over `x` (HxW or HxWxC float32); see the module docstring for the geometry.

    After `run`, `finished` lists the cores in the order they ran, `tile` is the final tile side
    and `notes` says what happened (halvings, fallback).
    """

    def __init__(self, x: np.ndarray, *, scale: int = 1, overlap: int = 0, unit: int = 1, tile: int = 256,
                 min_tile: int = 64, blend: int = 16, mode: str = "cosine", name: str = "the network",
                 budget: int | None = None, takes_context: bool = False) -> None:
        """tile: the core side; budget: input pixels one tile may hold (the engine's default), so an
        image within it runs as a single tile; takes_context: infer(tile, context) returns output
        only for the tile minus its context (see the module docstring)."""
        if mode not in BLEND_MODES:
            raise ValueError(f"blend mode must be one of {BLEND_MODES}")
        self.x = x
        self.h, self.w = x.shape[:2]
        self.scale, self.unit, self.mode, self.name = scale, unit, mode, name
        self.takes_context = takes_context
        self.min_tile = max(unit, round_up(min_tile, unit))
        self.tile = max(self.min_tile, round_down(tile, unit))
        # A ramp wider than half the smallest core would cross the core's other seam.
        self.half = max(0, min(blend // 2, self.min_tile // 2))
        self.margin = round_up(overlap + self.half, unit)
        if budget is None:
            cores = plan_cores((0, self.h, 0, self.w), self.tile, unit)
        else:
            # The default tile is a pixel budget: the fewest cores within it (one when the image
            # fits: exactly the full-frame pass), so as little as possible is computed twice.
            rows, cols = fewest_tiles(self.h, self.w, budget, self.margin)
            cores = [(a, b, c, d) for a, b in split_axis(0, self.h, -(-self.h // rows), unit)
                     for c, d in split_axis(0, self.w, -(-self.w // cols), unit)]
            self.tile = max(max(b - a, d - c) for a, b, c, d in cores)
        self.pending: deque[Core] = deque(cores)
        self.finished: list[Core] = []
        self.notes: list[str] = []
        self._out: np.ndarray | None = None
        self._weight: np.ndarray | None = None
        self._done_area = 0
        self._running_area = 0   # of the core being run

    @property
    def total(self) -> int:
        return len(self.finished) + len(self.pending)

    def _widened(self, core: Core, by: int) -> Core:
        y0, y1, x0, x1 = core
        return max(0, y0 - by), min(self.h, y1 + by), max(0, x0 - by), min(self.w, x1 + by)

    def tile_bounds(self, core: Core) -> Core:
        """The input window a core is run on: widened by the margin, clipped to the image."""
        return self._widened(core, self.margin)

    def used_bounds(self, core: Core) -> Core:
        """The input region a core's output is blended over: widened by `half` on inner sides."""
        return self._widened(core, self.half)

    def _infer_tile(self, infer: TileInfer, core: Core) -> tuple[Core, np.ndarray]:
        """(the input region the output covers, the output)."""
        window = iy0, iy1, ix0, ix1 = self.tile_bounds(core)
        tile = np.array(self.x[iy0:iy1, ix0:ix1], np.float32, order="C")   # a writable copy
        if not self.takes_context:
            return window, infer(tile)
        used = self.used_bounds(core)
        context = (used[0] - iy0, iy1 - used[1], used[2] - ix0, ix1 - used[3])
        return used, infer(tile, context) if any(context) else infer(tile)

    def run(self, infer: TileInfer, *, check: Callable[[], None] = lambda: None,
            report: Callable[[int, int, float], None] = lambda done, total, fraction: None,
            fallback: Callable[[BaseException], TileInfer | None] | None = None,
            on_oom: Callable[[BaseException], None] = lambda exc: None) -> np.ndarray:
        """Run every pending core through `infer` and return the blended output.

        check() is called before each tile (it raises to stop); report(done, total, fraction)
        after each; on an out-of-memory at the minimum tile, fallback(exc) may return another
        infer to continue with (None: give up).
        """
        report(len(self.finished), self.total, self._fraction())
        while self.pending:
            check()
            core = self.pending[0]
            self._running_area = (core[1] - core[0]) * (core[3] - core[2])
            try:
                covered, y = self._infer_tile(infer, core)
            except Exception as exc:
                if not is_out_of_memory(exc):
                    raise
                on_oom(exc)
                if self.tile > self.min_tile:
                    self._shrink()
                    continue
                replacement = fallback(exc) if fallback is not None else None
                if replacement is None:
                    raise ModelError(f"{self.name} ran out of memory even with {self.tile}-px tiles") from exc
                infer = replacement
                continue
            self._accumulate(core, covered, y)
            self.pending.popleft()
            self.finished.append(core)
            self._done_area += (core[1] - core[0]) * (core[3] - core[2])
            report(len(self.finished), self.total, self._fraction())
        return self._result()

    def _fraction(self) -> float:
        return self._done_area / float(self.h * self.w)

    def fraction_within(self, part: float) -> float:
        """The fraction done when the running tile is `part` of the way through."""
        return (self._done_area + part * self._running_area) / float(self.h * self.w)

    def _shrink(self) -> None:
        self.tile = max(self.min_tile, round_down(self.tile // 2, self.unit))
        self.pending = deque(c for core in self.pending for c in plan_cores(core, self.tile, self.unit))
        self.notes.append(f"tile size halved to {self.tile} after out-of-memory")

    def _accumulate(self, core: Core, window: Core, y: np.ndarray) -> None:
        s = self.scale
        iy0, iy1, ix0, ix1 = window
        expected = ((iy1 - iy0) * s, (ix1 - ix0) * s)
        y = np.asarray(y)
        if y.shape[:2] != expected:
            raise ModelError(f"{self.name} returned {y.shape[1]}x{y.shape[0]} for a {ix1 - ix0}x{iy1 - iy0} "
                             f"tile; expected x{s}")
        ylo, yhi, wy = axis_weights(core[0], core[1], self.h, self.half, s, self.mode)
        xlo, xhi, wx = axis_weights(core[2], core[3], self.w, self.half, s, self.mode)
        piece = y[ylo - iy0 * s:yhi - iy0 * s, xlo - ix0 * s:xhi - ix0 * s]
        if self.half == 0:   # no blend band: the cores partition the output, each pixel is written once
            if self._out is None:
                self._out = np.empty((self.h * s, self.w * s) + y.shape[2:], np.float32)
            self._out[ylo:yhi, xlo:xhi] = piece
            return
        if self._out is None:
            self._out = np.zeros((self.h * s, self.w * s) + y.shape[2:], np.float32)
            self._weight = np.zeros((self.h * s, self.w * s), np.float32)
        w2 = wy[:, None] * wx[None, :]
        assert self._weight is not None  # allocated together with _out above
        self._out[ylo:yhi, xlo:xhi] += piece * (w2 if piece.ndim == 2 else w2[..., None])
        self._weight[ylo:yhi, xlo:xhi] += w2

    def _result(self) -> np.ndarray:
        assert self._out is not None
        out = self._out
        if self._weight is not None:
            out /= self._weight if out.ndim == 2 else self._weight[..., None]
        self._out = self._weight = None
        return out


# --- whole-frame networks above a pixel budget -------------------------------------------------


def _resize(plane: np.ndarray, h: int, w: int) -> np.ndarray:
    shrinking = h * w < plane.shape[0] * plane.shape[1]
    return cv2.resize(plane, (w, h), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def resize_by_phase(x: np.ndarray, period: int, out_h: int, out_w: int) -> np.ndarray:
    """Resize an image (period 1) or a mosaic keeping its CFA phase (period 2 or 6).

    A mosaic is split into its period x period phase planes, each plane resized, then re-interleaved,
    so pixel (0, 0) keeps its colour. Output is out_h x out_w (x C).
    """
    x = np.asarray(x, np.float32)
    if period <= 1:
        return _resize(x, out_h, out_w)
    h, w = x.shape[0] - x.shape[0] % period, x.shape[1] - x.shape[1] % period
    ph, pw = -(-out_h // period), -(-out_w // period)
    out = np.empty((ph * period, pw * period) + x.shape[2:], np.float32)
    for i in range(period):
        for j in range(period):
            out[i::period, j::period] = _resize(np.ascontiguousarray(x[i:h:period, j:w:period]), ph, pw)
    return out[:out_h, :out_w]


def budget_shape(h: int, w: int, max_pixels: int, period: int, min_side: int) -> tuple[int, int] | None:
    """A smaller (h, w) with at most max_pixels, multiples of period, sides >= min_side; None if
    the image already fits or cannot shrink."""
    if h * w <= max_pixels:
        return None
    f = math.sqrt(max_pixels / (h * w))
    nh = max(round_up(max(min_side, 1), period), round_down(int(h * f), period))
    nw = max(round_up(max(min_side, 1), period), round_down(int(w * f), period))
    return None if nh >= h and nw >= w else (nh, nw)


def describe_budget(h: int, w: int, nh: int, nw: int, max_pixels: int) -> str:
    return (f"ran downscaled to {nw}x{nh} ({nh * nw / 1e6:.2f} MP) because {w}x{h} exceeds the "
            f"{max_pixels / 1e6:.2f} MP whole-frame budget; upsampled back, fine detail is lost")


def cores_partition(cores: Sequence[Core], h: int, w: int) -> bool:
    """True when the cores cover [0, h) x [0, w) exactly once (a check used by tests)."""
    cover = np.zeros((h, w), np.int32)
    for y0, y1, x0, x1 in cores:
        cover[y0:y1, x0:x1] += 1
    return bool((cover == 1).all())
