"""Simulated low-resolution inputs for super-resolution: MATLAB's `imresize(HR, 1/s, 'bicubic')`.

SR papers (SRCNN, EDSR, SRGAN, BasicSR's test sets) make the LR input from the HR ground truth
with MATLAB's imresize: the Keys cubic kernel with a = -0.5, widened by the scale factor when
shrinking (antialiasing), mirrored ("symmetric") at the borders, rows and columns resized
separately, and the result rounded to uint8. OpenCV's and PyTorch's bicubic have no
antialiasing and give a different (aliased) LR image, so the numbers would not match papers.

Convention: the HR image is first cropped to a multiple of the scale ("modcrop", as the SR
evaluation scripts do), so the LR grid maps exactly onto the HR grid and SR output × s has the
ground truth's size. Values stay float32 in [0, 1]; with `quantize=True` (default, what MATLAB
does on uint8 images) the LR values are rounded to 8-bit codes.
"""

from __future__ import annotations

import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image

SR_SCALES = (2, 3, 4, 8)
KERNEL = "bicubic"


def cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB imresize's 'bicubic')."""
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return ((1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
            + (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2)))


def contributions(in_len: int, out_len: int, scale: float, antialias: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(weights, indices), each out_len x taps: output i = sum_k weights[i, k] * input[indices[i, k]].

    As MATLAB: output pixel u (1-based) sits at input coordinate u/scale + (1 - 1/scale)/2; when
    shrinking with antialiasing the kernel is h(x) = scale * cubic(scale * x), 4/scale wide;
    weights are normalised to sum 1; out-of-range taps are mirrored (symmetric padding).
    """
    shrink = scale < 1 and antialias
    width = 4.0 / scale if shrink else 4.0
    u = np.arange(1, out_len + 1, dtype=np.float64)
    x = u / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(x - width / 2)
    taps = int(np.ceil(width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]          # 1-based input positions
    dist = x[:, None] - idx
    weights = scale * cubic(scale * dist) if shrink else cubic(dist)
    weights /= weights.sum(axis=1, keepdims=True)
    # mirror 1-based positions into [1, in_len]: ..., 2, 1, | 1, 2, ..., n, | n, n-1, ...
    period = np.concatenate([np.arange(in_len), np.arange(in_len - 1, -1, -1)])
    indices = period[np.mod(idx - 1, 2 * in_len).astype(np.int64)]
    keep = np.any(weights != 0, axis=0)                     # drop taps that are zero for every output
    return np.ascontiguousarray(weights[:, keep]), np.ascontiguousarray(indices[:, keep])


def _resize_axis(arr: np.ndarray, axis: int, out_len: int, scale: float) -> np.ndarray:
    weights, indices = contributions(arr.shape[axis], out_len, scale)
    moved = np.moveaxis(arr, axis, 0)                       # (in_len, ...)
    gathered = moved[indices]                               # (out_len, taps, ...)
    w = weights.reshape(weights.shape + (1,) * (moved.ndim - 1))
    return np.moveaxis((gathered * w).sum(axis=1), 0, axis)


def imresize(data: np.ndarray, scale: float, out_shape: tuple[int, int] | None = None) -> np.ndarray:
    """MATLAB-compatible bicubic resize of an HxW or HxWxC float array (float64 inside).

    MATLAB resizes along the dimension with the smaller scale change first; for the equal
    factors used here the order is rows, then columns.
    """
    arr = np.asarray(data, dtype=np.float64)
    h, w = arr.shape[:2]
    oh, ow = out_shape if out_shape is not None else (int(np.ceil(h * scale)), int(np.ceil(w * scale)))
    out = _resize_axis(arr, 0, oh, scale)
    return _resize_axis(out, 1, ow, scale)


def modcrop(data: np.ndarray, scale: int) -> np.ndarray:
    h, w = data.shape[:2]
    return data[: h - h % scale, : w - w % scale]


def parse_simulate_lr(spec: str) -> int:
    """'bicubic:4' -> 4 (InputError with the accepted forms otherwise)."""
    kernel, _, factor = spec.partition(":")
    if kernel.lower() != KERNEL or not factor.isdigit() or int(factor) not in SR_SCALES:
        raise InputError(f"--simulate-lr wants bicubic:S with S one of {', '.join(map(str, SR_SCALES))}, "
                         f"got {spec!r}")
    return int(factor)


def describe(scale: int) -> str:
    return (f"bicubic ×1/{scale} (MATLAB imresize: Keys a=-0.5, antialiased, symmetric borders, "
            f"uint8 rounding; HR cropped to a multiple of {scale})")


def simulate_low_resolution(ground_truth: Image, scale: int, quantize: bool = True) -> tuple[Image, Image]:
    """(HR ground truth cropped to a multiple of `scale`, its LR input), both float32 Images.

    The LR image's meta records how it was made (`simulated_lr` = scale) and from which file.
    """
    if scale not in SR_SCALES:
        raise InputError(f"simulated low resolution supports ×{', ×'.join(map(str, SR_SCALES))}, not ×{scale}")
    hr = modcrop(ground_truth.rgb() if ground_truth.channels == 3 else ground_truth.data, scale)
    if hr.shape[0] < 2 * scale or hr.shape[1] < 2 * scale:
        raise InputError(f"{ground_truth.label or 'the image'} is too small to downscale ×{scale}")
    small = imresize(hr, 1.0 / scale, (hr.shape[0] // scale, hr.shape[1] // scale))
    small = np.clip(small, 0.0, 1.0)
    if quantize:
        small = np.round(small * 255.0) / 255.0
    name = ground_truth.label or ground_truth.source
    meta = {**dict(ground_truth.meta), "simulated_lr": scale, "simulated_from": ground_truth.source,
            "lr_kernel": describe(scale)}
    hr_image = ground_truth.with_data(hr, meta={**dict(ground_truth.meta), "modcrop": scale})
    lr_image = ground_truth.with_data(small.astype(np.float32), label=f"{name} · LR ×1/{scale}", meta=meta)
    return hr_image, lr_image


__all__ = [
    "SR_SCALES",
    "contributions",
    "cubic",
    "describe",
    "imresize",
    "modcrop",
    "parse_simulate_lr",
    "simulate_low_resolution",
]
