"""Whole-frame runs: networks that are not tile-safe see the frame in one pass."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from isp_viewer.core.errors import ModelError
from isp_viewer.engine.devices import is_out_of_memory
from isp_viewer.engine.jobs import Job
from isp_viewer.engine.tiling import budget_shape, describe_budget, resize_by_phase, round_up
from isp_viewer.models.spec import InputKind, ModelSpec

Infer = Callable[..., np.ndarray]


def run_whole_frame(job: Job, spec: ModelSpec, infer: Infer, fallback: Callable[[BaseException], Infer | None],
                    notes: list[str]) -> np.ndarray:
    """One pass over the whole frame (a network that is not tile-safe), downscaled by phase to the job's
    pixel budget where it sets one; out of memory on a GPU falls back to `fallback`'s CPU infer."""
    x = job.x
    h, w = x.shape[:2]
    period = spec.tile_align if spec.input_kind in (InputKind.BAYER, InputKind.XTRANS) else 1
    small = None
    if job.max_whole_frame_pixels:
        period_all = round_up(max(period, spec.size_multiple), period)
        small = budget_shape(h, w, job.max_whole_frame_pixels, period_all, spec.min_size)
        if small is not None and any(isinstance(v, np.ndarray) and v.shape[:2] == (h, w)
                                     for _, v in job.options):
            notes.append("pixel budget ignored: the options carry images on this grid")
            small = None
    if small is not None:
        assert job.max_whole_frame_pixels is not None   # small is only set under a budget
        notes.append(describe_budget(h, w, small[0], small[1], job.max_whole_frame_pixels))
        x = resize_by_phase(x, period, *small)
    while True:
        try:
            out = infer(np.array(x, np.float32, order="C"))  # writable: Job.x is read-only
            break
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            replacement = fallback(exc)
            if replacement is None:
                raise ModelError(f"{spec.name} ran out of memory on the whole {w}x{h} frame; "
                                 "set a whole-frame pixel budget to run it downscaled") from exc
            infer = replacement
    if small is not None:
        s = spec.output_scale
        out_period = 2 if out.ndim == 2 else 1  # mosaic outputs keep their Bayer phase
        out = resize_by_phase(out, out_period, h * s, w * s)
    return out
