"""Full-reference fidelity metrics: PSNR, SSIM and MS-SSIM under an explicit `Convention`.

Every function takes (test, reference, conv, region=None); the inputs follow the convention of
`isp_viewer.metrics.convention` and must share one pixel grid. `region` (reference-grid pixels)
is cropped first, then `conv.crop_border`, so a metric over a region equals the metric of the
cropped images.

SSIM is Wang et al. (2004) with an 11x11 Gaussian window of sigma 1.5, K1 = 0.01, K2 = 0.03,
population covariances, averaged over the 'valid' region (5 px in from each side) and over
channels. That is skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False) and, on Y, BasicSR's calculate_ssim.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.core.region import Region
from isp_viewer.metrics.convention import ISP_PAPER, ArrayLike, Convention, prepare_pair

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03
# Wang, Simoncelli & Bovik (2003), "Multi-scale structural similarity for image quality assessment".
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)

_HALF = SSIM_WINDOW // 2
# Rows are processed in strips of about this many values: the temporaries then stay in cache
# and a 12 MP image never needs a dozen full-size float buffers at once.
_STRIP_VALUES = 1 << 19
# Each thread holds ~10 strip buffers (~20 MB); beyond a few threads memory bandwidth is the limit.
_MAX_THREADS = 8
_GAUSS = cv2.getGaussianKernel(SSIM_WINDOW, SSIM_SIGMA).astype(np.float32)


@dataclass(frozen=True)
class PsnrSsim:
    psnr: float
    ssim: float


def psnr(test: ArrayLike, reference: ArrayLike, conv: Convention = ISP_PAPER,
         region: Region | None = None) -> float:
    """10 log10(MAX^2 / MSE) in dB over all kept pixels and channels; inf for identical images."""
    x, y = prepare_pair(test, reference, conv, region)
    return _psnr_prepared(x, y)


def ssim(test: ArrayLike, reference: ArrayLike, conv: Convention = ISP_PAPER,
         region: Region | None = None) -> float:
    """Mean SSIM (see module doc) in [-1, 1]; needs at least 11x11 pixels after cropping."""
    x, y = prepare_pair(test, reference, conv, region)
    ssim_sum, _, count = _ssim_sums(x, y)
    return float(ssim_sum.sum() / (count * x.shape[2]))


def psnr_ssim(test: ArrayLike, reference: ArrayLike, conv: Convention = ISP_PAPER,
              region: Region | None = None) -> PsnrSsim:
    """PSNR and SSIM of one pair, preparing the images once."""
    x, y = prepare_pair(test, reference, conv, region)
    ssim_sum, _, count = _ssim_sums(x, y)
    return PsnrSsim(_psnr_prepared(x, y), float(ssim_sum.sum() / (count * x.shape[2])))


def ms_ssim(test: ArrayLike, reference: ArrayLike, conv: Convention = ISP_PAPER,
            region: Region | None = None, weights: tuple[float, ...] = MS_SSIM_WEIGHTS) -> float:
    """Multi-scale SSIM (Wang et al. 2003), following the authors' MATLAB msssim.m.

    At scales 1..M-1 the mean contrast-structure term cs_j is kept, at scale M the full SSIM;
    the result is prod(cs_j ** w_j) * ssim_M ** w_M per channel, averaged over channels.
    Between scales the images are 2x2 box-averaged (odd sizes padded by repeating the last
    row/column). Negative terms are clamped to 0 so the fractional powers stay real.
    The shorter side must be at least 11 * 2**(M-1) pixels (176 for 5 scales).
    """
    x, y = prepare_pair(test, reference, conv, region)
    scales = len(weights)
    need = SSIM_WINDOW * 2 ** (scales - 1)
    if min(x.shape[:2]) < need:
        raise InputError(f"MS-SSIM with {scales} scales needs at least {need}x{need} pixels, "
                         f"got {x.shape[1]}x{x.shape[0]}")
    result = np.ones(x.shape[2], dtype=np.float64)
    for j, w in enumerate(weights):
        ssim_sum, cs_sum, count = _ssim_sums(x, y)
        term = (ssim_sum if j == scales - 1 else cs_sum) / count
        result *= np.maximum(term, 0.0) ** w
        if j < scales - 1:
            x, y = _halve(x), _halve(y)
    return float(result.mean())


def _psnr_prepared(x: np.ndarray, y: np.ndarray) -> float:
    # cv2.norm accumulates in double and is several times faster than numpy on 36 M values.
    sse = cv2.norm(x, y, cv2.NORM_L2SQR)
    mse = sse / x.size
    if mse == 0:
        return math.inf
    return float(10.0 * math.log10(1.0 / mse))  # [0, 1] units: MAX = 1


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _halve(x: np.ndarray) -> np.ndarray:
    """2x2 block mean; an odd last row/column is repeated first (MATLAB 'symmetric' padding)."""
    h, w = x.shape[:2]
    if h % 2 or w % 2:
        x = np.pad(x, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    h2, w2 = x.shape[0] // 2, x.shape[1] // 2
    blocks = x.reshape(h2, 2, w2, 2, x.shape[2])
    return (blocks.mean(axis=(1, 3), dtype=np.float64)).astype(np.float32)


class _Workspace:
    """Buffers reused across the strips one thread computes.

    Fresh temporaries for every strip cost about as much as the arithmetic itself (page
    faults), so each thread writes into these through OpenCV's dst arguments.
    """

    def __init__(self, rows: int, width: int, channels: int) -> None:
        full = (rows + 2 * _HALF, width, channels)
        inner = (rows, width - 2 * _HALF, channels)
        self.full = [np.empty(full, np.float32) for _ in range(6)]
        self.inner = [np.empty(inner, np.float32) for _ in range(4)]


def _strip_sums(x: np.ndarray, y: np.ndarray, c1: float, c2: float,
                ws: _Workspace) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel sums of the SSIM and cs maps over the valid pixels of one strip of rows.

    OpenCV arithmetic is used throughout: it is about twice as fast as numpy here and its
    per-channel sums are an order of magnitude faster than numpy's strided reductions.
    Only array-array operations and addWeighted's gamma are used, because a Python scalar in
    other cv2 calls would only touch the first channel.
    """
    c = x.shape[2]
    n_full, n_inner = x.shape[0], x.shape[0] - 2 * _HALF
    if c == 1:  # OpenCV hands single-channel results back as HxW
        x, y = x[:, :, 0], y[:, :, 0]
    f = [b[:n_full, :, 0] if c == 1 else b[:n_full] for b in ws.full]
    t = [b[:n_inner, :, 0] if c == 1 else b[:n_inner] for b in ws.inner]
    valid = (slice(_HALF, -_HALF), slice(_HALF, -_HALF))

    # Only sigma_x^2 + sigma_y^2 enters SSIM, so one blur of x^2 + y^2 replaces two.
    energy = cv2.multiply(x, x, dst=f[0])
    cv2.accumulateSquare(y, energy)
    cross = cv2.multiply(x, y, dst=f[1])
    mx = cv2.sepFilter2D(x, -1, _GAUSS, _GAUSS, dst=f[2], borderType=cv2.BORDER_REFLECT)[valid]
    my = cv2.sepFilter2D(y, -1, _GAUSS, _GAUSS, dst=f[3], borderType=cv2.BORDER_REFLECT)[valid]
    s2 = cv2.sepFilter2D(energy, -1, _GAUSS, _GAUSS, dst=f[4], borderType=cv2.BORDER_REFLECT)[valid]
    sxy = cv2.sepFilter2D(cross, -1, _GAUSS, _GAUSS, dst=f[5], borderType=cv2.BORDER_REFLECT)[valid]

    p = cv2.multiply(mx, my, dst=t[0])                       # mu_x mu_y
    q = cv2.multiply(mx, mx, dst=t[1])
    cv2.accumulateSquare(my, q)                              # mu_x^2 + mu_y^2
    cs_num = cv2.addWeighted(sxy, 2.0, p, -2.0, c2, dst=t[2])  # 2 sigma_xy + C2
    cs_den = cv2.addWeighted(s2, 1.0, q, -1.0, c2, dst=t[3])   # sigma_x^2 + sigma_y^2 + C2
    cs = cv2.divide(cs_num, cs_den, dst=cs_num)
    lum_num = cv2.addWeighted(p, 2.0, p, 0.0, c1, dst=p)      # 2 mu_x mu_y + C1
    lum_den = cv2.addWeighted(q, 1.0, q, 0.0, c1, dst=q)      # mu_x^2 + mu_y^2 + C1
    lum = cv2.divide(lum_num, lum_den, dst=lum_num)
    ssim_map = cv2.multiply(lum, cs, dst=lum)
    return (np.array(cv2.sumElems(ssim_map)[:c], dtype=np.float64),
            np.array(cv2.sumElems(cs)[:c], dtype=np.float64))


def _ssim_sums(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(sum of SSIM map per channel, sum of cs map per channel, valid pixels per channel).

    x, y: HxWxC float32 in [0, 1] units. Strips of output rows are shared among threads (numpy
    and OpenCV release the GIL); each strip reads its 5-row halo, so every value equals the
    whole-image computation.
    """
    h, w, c = x.shape
    if h < SSIM_WINDOW or w < SSIM_WINDOW:
        raise InputError(f"SSIM needs at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels, got {w}x{h}")
    c1, c2 = SSIM_K1 ** 2, SSIM_K2 ** 2  # (K * L)^2 with L = 1 in [0, 1] units
    out_rows = h - 2 * _HALF
    step = min(out_rows, max(16, _STRIP_VALUES // (w * c)))
    starts = list(range(0, out_rows, step))
    workers = max(1, min(len(starts), _MAX_THREADS, _cpu_count()))

    def run(worker: int) -> list[tuple[np.ndarray, np.ndarray]]:
        ws = _Workspace(step, w, c)
        return [_strip_sums(x[r0:min(r0 + step, out_rows) + 2 * _HALF],
                            y[r0:min(r0 + step, out_rows) + 2 * _HALF], c1, c2, ws)
                for r0 in starts[worker::workers]]

    if workers == 1:
        parts = run(0)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = [p for chunk in pool.map(run, range(workers)) for p in chunk]
    ssim_sum = np.sum([p[0] for p in parts], axis=0)
    cs_sum = np.sum([p[1] for p in parts], axis=0)
    return ssim_sum, cs_sum, out_rows * (w - 2 * _HALF)
