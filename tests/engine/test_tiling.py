"""Tiling geometry, seam blending, tiled == full frame, and out-of-memory recovery (TiledRun)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from isp_viewer.core.errors import ModelError
from isp_viewer.engine.tiling import (
    TiledRun,
    alignment_unit,
    axis_weights,
    budget_shape,
    cores_partition,
    fewest_tiles,
    resize_by_phase,
    split_axis,
)
from isp_viewer.models.spec import InputKind
from tests.engine.synthetic import XTRANS_CELL, conv_spec, smooth_rgb


def _tiled(spec, net, x, cfa=None, tile=32, blend=16, mode="cosine", unit=None):
    run = TiledRun(x, scale=spec.output_scale, overlap=spec.tile_overlap,
                   unit=unit or alignment_unit(spec.tile_align, spec.size_multiple), tile=tile, min_tile=16,
                   blend=blend, mode=mode)
    out = run.run(lambda t: spec.infer(net, t, cfa=cfa))
    return out, run


# --- geometry --------------------------------------------------------------------------------------


@pytest.mark.parametrize("length,tile,unit", [(100, 32, 2), (97, 32, 2), (120, 40, 6), (30, 64, 2), (257, 64, 1)])
def test_split_axis_is_even_aligned_and_covering(length, tile, unit):
    pieces = split_axis(0, length, tile, unit)
    assert pieces[0][0] == 0 and pieces[-1][1] == length
    assert all(a == prev_b for (a, _), (_, prev_b) in zip(pieces[1:], pieces[:-1]))
    assert all(a % unit == 0 for a, _ in pieces)
    assert len(pieces) == -(-length // tile)
    sizes = [b - a for a, b in pieces]
    assert max(sizes) - min(sizes) <= 2 * unit  # even, up to the alignment rounding


def test_alignment_unit_combines_cfa_period_and_size_multiple():
    assert alignment_unit(2, 1) == 2 and alignment_unit(6, 1) == 6 and alignment_unit(2, 32) == 32
    assert alignment_unit(6, 4) == 12


@pytest.mark.parametrize("mode", ["linear", "cosine"])
@pytest.mark.parametrize("scale", [1, 4])
def test_seam_weights_of_neighbours_sum_to_one(mode, scale):
    n, half = 100, 6
    cores = [(0, 40), (40, 72), (72, 100)]
    total = np.zeros(n * scale)
    for a, b in cores:
        lo, hi, w = axis_weights(a, b, n, half, scale, mode)
        assert lo == max(0, a - half) * scale and hi == min(n, b + half) * scale
        total[lo:hi] += w
    np.testing.assert_allclose(total, 1.0, atol=1e-6)
    lo, hi, w = axis_weights(40, 72, n, half, scale, mode)
    # The ramp is really a ramp: from ~0 through 1/2 at the seam to 1 inside.
    assert w[0] < 0.1 and w[len(w) // 2] == pytest.approx(1.0) and abs(w[2 * half * scale // 2] - 0.5) < 0.1


def test_cores_partition_the_image_and_tiles_keep_context():
    x = np.zeros((70, 90, 3), np.float32)
    run = TiledRun(x, overlap=5, unit=2, tile=32, min_tile=16, blend=8)
    cores = list(run.pending)
    assert cores_partition(cores, 70, 90)
    assert run.margin == 10  # overlap 5 + half-blend 4, rounded up to the CFA period
    for core in cores:
        y0, _y1, x0, x1 = run.tile_bounds(core)
        assert y0 % 2 == 0 and x0 % 2 == 0
        assert y0 == max(0, core[0] - 10) and x1 == min(90, core[3] + 10)


# --- tiled == full frame --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["cosine", "linear"])
def test_tiled_equals_full_frame_rgb(mode):
    spec = conv_spec(depth=5)
    net, x = spec.build(), smooth_rgb(75, 101)
    full = spec.infer(net, x)
    out, run = _tiled(spec, net, x, tile=32, mode=mode)
    assert len(run.finished) == 3 * 4
    assert np.abs(out - full).max() < 1e-5


def test_tiled_equals_full_frame_with_output_scale():
    spec = conv_spec("conv_x2", depth=3, scale=2)
    net, x = spec.build(), smooth_rgb(40, 52)
    full = spec.infer(net, x)
    out, _ = _tiled(spec, net, x, tile=20)
    assert out.shape == (80, 104, 3) == full.shape
    assert np.abs(out - full).max() < 1e-5


@pytest.mark.parametrize("kind,cfa,shape",
                         [(InputKind.BAYER, "GBRG", (62, 86)), (InputKind.XTRANS, XTRANS_CELL, (66, 80))])
def test_tiled_equals_full_frame_on_mosaics_and_keeps_cfa_phase(kind, cfa, shape):
    spec = conv_spec("conv_mosaic", depth=4, kind=kind)
    net = spec.build()
    x = smooth_rgb(*shape)[..., 1]
    full = spec.infer(net, x, cfa=cfa)
    out, run = _tiled(spec, net, x, cfa=cfa, tile=24)
    assert len(run.finished) > 4
    assert np.abs(out - full).max() < 1e-5
    # The same geometry without the CFA alignment starts tiles on the wrong colours.
    misaligned, _ = _tiled(spec, net, x, cfa=cfa, tile=23, unit=1)
    assert np.abs(misaligned - full).max() > 1e-2


def test_too_little_overlap_shows_at_the_seams():
    """The check above can fail: with less context than the receptive field tiles differ."""
    spec = conv_spec(depth=6, overlap=1)
    net, x = spec.build(), smooth_rgb(64, 64)
    out, _ = _tiled(spec, net, x, tile=24, blend=0)
    assert np.abs(out - spec.infer(net, x)).max() > 1e-3


# --- out of memory ----------------------------------------------------------------------------------


def _oom_after(infer, limit_side: int, free_calls: int, log: list):
    """infer that raises CUDA-style OOM for tiles wider than limit_side after `free_calls` calls."""

    def run(tile):
        log.append(tile.shape)
        if len(log) > free_calls and max(tile.shape[:2]) > limit_side:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return infer(tile)

    return run


def test_out_of_memory_halves_tiles_and_keeps_finished_ones():
    spec = conv_spec(depth=3)
    net, x = spec.build(), smooth_rgb(96, 128)
    full = spec.infer(net, x)
    log: list = []
    run = TiledRun(x, overlap=3, unit=1, tile=64, min_tile=16, blend=8)
    assert run.total == 4
    out = run.run(_oom_after(lambda t: spec.infer(net, t), limit_side=60, free_calls=2, log=log))
    assert np.abs(out - full).max() < 1e-5
    assert run.tile == 32 and run.notes == ["tile size halved to 32 after out-of-memory"]
    # The two tiles done before the OOM were kept: they are not split and not run again.
    assert run.finished[:2] == [(0, 48, 0, 64), (0, 48, 64, 128)]
    assert all((c[1] - c[0]) <= 32 and (c[3] - c[2]) <= 32 for c in run.finished[2:])
    assert cores_partition(run.finished, 96, 128)
    assert len(log) == len(run.finished) + 1  # every tile ran once, plus the one failed attempt


def test_out_of_memory_at_minimum_tile_uses_fallback_or_fails():
    spec = conv_spec(depth=2)
    net, x = spec.build(), smooth_rgb(40, 40)

    def always_oom(tile):
        raise RuntimeError("MPS backend out of memory (MPS allocated: 1.2 GB)")

    with pytest.raises(ModelError, match="out of memory even with 16-px tiles"):
        TiledRun(x, overlap=2, tile=32, min_tile=16).run(always_oom)

    used = []

    def fallback(exc):
        used.append(exc)
        return lambda t: spec.infer(net, t)

    run = TiledRun(x, overlap=2, tile=32, min_tile=16)
    out = run.run(always_oom, fallback=fallback)
    assert len(used) == 1 and np.abs(out - spec.infer(net, x)).max() < 1e-5


def test_other_errors_are_not_treated_as_out_of_memory():
    x = smooth_rgb(20, 20)

    def broken(tile):
        raise RuntimeError("Given groups=1, weight of size [8, 3, 3, 3], expected input to have 3 channels")

    with pytest.raises(RuntimeError, match="expected input"):
        TiledRun(x, tile=16, min_tile=8).run(broken)


def test_wrong_output_size_is_a_model_error():
    x = smooth_rgb(20, 20)
    with pytest.raises(ModelError, match="expected x2"):
        TiledRun(x, scale=2, tile=16, min_tile=8).run(lambda t: t)


# --- whole-frame budget helpers ----------------------------------------------------------------------


def test_budget_shape_and_phase_preserving_resize():
    assert budget_shape(100, 100, 20_000, 2, 8) is None
    nh, nw = budget_shape(400, 600, 60_000, 2, 8)
    assert nh * nw <= 60_000 and nh % 2 == 0 and nw % 2 == 0 and nh / nw == pytest.approx(400 / 600, rel=0.02)
    # A constant-per-colour RGGB mosaic keeps each colour on its own phase after resizing.
    mosaic = np.tile(np.array([[0.1, 0.5], [0.6, 0.9]], np.float32), (50, 60))
    small = resize_by_phase(mosaic, 2, 40, 48)
    assert small.shape == (40, 48)
    np.testing.assert_allclose(small[0::2, 0::2], 0.1, atol=1e-6)
    np.testing.assert_allclose(small[1::2, 1::2], 0.9, atol=1e-6)
    big = resize_by_phase(small, 2, 101, 120)
    assert big.shape == (101, 120)
    np.testing.assert_allclose(big[1::2, 0::2], 0.6, atol=1e-6)


# --- the engine's default tile as a pixel budget ------------------------------------------------


def test_an_image_within_the_budget_runs_as_one_tile_equal_to_the_full_frame():
    x = np.random.default_rng(3).random((150, 260, 3)).astype(np.float32)
    seen = []

    def box_blur(t):   # a 5x5 box: radius 2
        seen.append(t.shape[:2])
        return cv2.blur(t, (5, 5), borderType=cv2.BORDER_REFLECT_101)

    full = box_blur(x)
    seen.clear()
    run = TiledRun(x, overlap=2, unit=2, tile=128, min_tile=32, blend=8, budget=128 * 128 * 4)
    out = run.run(box_blur)
    assert seen == [(150, 260)] and run.finished == [(0, 150, 0, 260)]
    assert np.array_equal(out, full)


def test_an_image_above_the_budget_gets_the_fewest_tiles_within_it():
    x = np.random.default_rng(4).random((150, 260, 3)).astype(np.float32)
    run = TiledRun(x, overlap=2, unit=2, tile=128, min_tile=32, blend=8, budget=128 * 128)
    out = run.run(lambda t: cv2.blur(t, (5, 5), borderType=cv2.BORDER_REFLECT_101))
    # 39000 px under a 16384 px budget: 3 cores (square 128 px tiles would be 2 x 3 = 6)
    assert len(run.finished) == 3 and cores_partition(run.finished, 150, 260)
    assert all((b - a) * (d - c) <= 128 * 128 + 2 * 150 for a, b, c, d in run.finished)   # + alignment rounding
    np.testing.assert_allclose(out, cv2.blur(x, (5, 5), borderType=cv2.BORDER_REFLECT_101), atol=1e-5)


@pytest.mark.parametrize("h, w, budget, grid", [(288, 432, 256 * 256, (1, 2)), (1152, 1728, 512 * 512, (2, 4)),
                                                (100, 100, 10_000, (1, 1)), (100, 1000, 10_000, (1, 10)),
                                                (4000, 6000, 512 * 512, (8, 12))])
def test_fewest_tiles(h, w, budget, grid):
    rows, cols = fewest_tiles(h, w, budget, margin=26)
    assert (rows, cols) == grid
    assert -(-h // rows) * -(-w // cols) <= budget

    def work(r, c):
        return (h + 52 * (r - 1)) * (w + 52 * (c - 1))

    # no grid within the budget computes fewer pixels (searched up to twice the tiles)
    assert all(work(r, c) >= work(rows, cols) for r in range(1, 2 * rows + 2) for c in range(1, 2 * cols + 2)
               if -(-h // r) * -(-w // c) <= budget)


def test_a_network_told_its_context_pads_only_image_borders_and_equals_the_full_frame():
    x = np.random.default_rng(5).random((150, 260, 3)).astype(np.float32)
    full = cv2.blur(x, (5, 5), borderType=cv2.BORDER_REFLECT_101)
    contexts = []

    def blur_without_output_on_context(tile, context=(0, 0, 0, 0)):   # a 5x5 box: radius 2
        contexts.append(context)
        top, bottom, left, right = context
        out = cv2.blur(tile, (5, 5), borderType=cv2.BORDER_REFLECT_101)
        return out[top:out.shape[0] - bottom, left:out.shape[1] - right]

    run = TiledRun(x, overlap=2, unit=2, tile=64, min_tile=32, blend=8, takes_context=True)
    out = run.run(blur_without_output_on_context)
    assert len(run.finished) == 3 * 5 and np.max(np.abs(out - full)) < 1e-5
    for (y0, y1, x0, x1), (top, bottom, left, right) in zip(run.finished, contexts, strict=True):
        # real context (overlap 2 rounded to the unit) at inner sides, none at the image's borders
        assert (top == 0) == (y0 == 0) and (bottom == 0) == (y1 == 150)
        assert (left == 0) == (x0 == 0) and (right == 0) == (x1 == 260)
        assert all(c in (0, 2) for c in (top, bottom, left, right))
