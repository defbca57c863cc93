"""NIQE (Mittal, Soundararajan & Bovik, IEEE SPL 2013), no reference: lower is more natural.

Convention (that of MATLAB's `niqe` and BasicSR 1.4.2's calculate_niqe, which it reproduces):
the image is rounded to 8-bit codes, turned into BT.601 studio-range Y on the 0-255 scale
(16 + (65.481 R + 128.553 G + 24.966 B) / 255 from the codes), Y rounded to integers (ties to
even, as BasicSR's np.round), cropped to whole 96x96 blocks. At two scales (the second a
MATLAB-bicubic half-size copy with antialiasing, 48x48 blocks) each block's MSCN coefficients
(7x7 Gaussian window from the model file, borders replicated, (I - mu) / (sigma + 1)) give 18
AGGD features; the score is the Mahalanobis-like distance between the blocks' multivariate
Gaussian and the pristine model (`data/niqe_pris_params.npz`, see data/NOTICE.md).
The arithmetic is float32 where BasicSR's is (Y, MSCN, the half-size copy). In float32 at the
0-255 scale, sigma^2 = E[x^2] - mu^2 cancels two numbers near 6.5e4 whose spacing is 0.004-0.008,
so in flat regions the MSCN values (and the AGGD grid choices of their blocks) follow the last bit
of the half-size copy; with 25 blocks for 36 features the covariance is rank-deficient and pinv
amplifies that. The score therefore depends on the order of the float32 additions in the 8-tap
resize. BasicSR 1.4.2's own code run here (numpy 2.4/1.26, scipy 1.17/1.11, torch 2.13 CPU) is
2.3e-3 off its stored kodim03 value; about 30 plausible summation orders span +3e-5 to +2.5e-3 on
kodim03. This implementation is within 1e-4 on seven Kodak values and 1.7e-3 on kodim03.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.metrics.convention import ArrayLike, _codes, as_unit_array

NIQE_BLOCK = 96
NIQE_MODEL = Path(__file__).with_name("data") / "niqe_pris_params.npz"
NIQE_CONVENTION = ("NIQE (MATLAB model, BasicSR 1.4.2 convention): Y of uint8 RGB rounded to integers, "
                   "96x96 blocks, no crop; lower is better")


@lru_cache(maxsize=1)
def _model() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.load(NIQE_MODEL, allow_pickle=False) as f:
        return f["mu_pris_param"], f["cov_pris_param"], f["gaussian_window"]


@lru_cache(maxsize=1)
def _aggd_table() -> tuple[np.ndarray, np.ndarray]:
    """The shape grid 0.2:0.001:10 of the reference code and r(gamma), which rises with gamma."""
    from scipy.special import gamma as g

    gam = np.arange(0.2, 10.001, 0.001)
    return gam, g(2 / gam) ** 2 / (g(1 / gam) * g(3 / gam))


def aggd_fit(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(alpha, beta_left, beta_right) of an asymmetric generalised Gaussian per row of `blocks`
    (N x M values), by moment matching on the grid of `_aggd_table` (nearest r)."""
    from scipy.special import gamma as g

    gam, r_gam = _aggd_table()
    neg, pos = blocks < 0, blocks > 0
    sq = blocks * blocks
    with np.errstate(invalid="ignore", divide="ignore"):
        left = np.sqrt((sq * neg).sum(1) / neg.sum(1))
        right = np.sqrt((sq * pos).sum(1) / pos.sum(1))
        gh = left / right
        rhat = np.abs(blocks).mean(1) ** 2 / sq.mean(1)
        rnorm = rhat * (gh ** 3 + 1) * (gh + 1) / (gh ** 2 + 1) ** 2
    # argmin |r_gam - rnorm| on a rising table: the neighbour of the insertion point that is nearer
    # (the lower one on a tie, as argmin takes the first). A block without negative (or positive)
    # values has rnorm NaN: upstream's argmin then returns the first entry, alpha = 0.2, which
    # still enters the features' mean (the betas stay NaN and drop the block from the covariance).
    idx = np.clip(np.searchsorted(r_gam, np.nan_to_num(rnorm, nan=0.0)), 1, len(gam) - 1)
    lower_nearer = (r_gam[idx - 1] - rnorm) ** 2 <= (r_gam[idx] - rnorm) ** 2
    alpha = np.where(lower_nearer, gam[idx - 1], gam[idx])
    alpha = np.where(np.isnan(rnorm), gam[0], alpha)
    scale = np.sqrt(g(1 / alpha) / g(3 / alpha))
    return alpha, left * scale, right * scale


def _block_features(blocks: np.ndarray) -> np.ndarray:
    """N x 18 NIQE features of N blocks (N x bh x bw MSCN values)."""
    from scipy.special import gamma as g

    n = blocks.shape[0]
    flat = blocks.reshape(n, -1)
    alpha, bl, br = aggd_fit(flat)
    feats = [alpha, (bl + br) / 2]
    for shift in ((0, 1), (1, 0), (1, 1), (1, -1)):
        prod = blocks * np.roll(blocks, shift, axis=(1, 2))  # circular within each block, as upstream
        a, left, right = aggd_fit(prod.reshape(n, -1))
        feats += [a, (right - left) * (g(2 / a) / g(1 / a)), left, right]
    return np.stack(feats, axis=1)


def _blocks(img: np.ndarray, bh: int, bw: int, nh: int, nw: int) -> np.ndarray:
    img = img[:nh * bh, :nw * bw]
    return img.reshape(nh, bh, nw, bw).transpose(0, 2, 1, 3).reshape(nh * nw, bh, bw)


def _mscn(img: np.ndarray, window: np.ndarray) -> np.ndarray:
    """MSCN coefficients in float32 with scipy's convolve ('nearest' borders), as BasicSR computes
    them: flat regions then carry the same rounding noise, which decides whether their blocks
    have negative values at all (see `aggd_fit`)."""
    from scipy.ndimage import convolve

    img = img.astype(np.float32)
    mu = convolve(img, window, mode="nearest")
    sigma = np.sqrt(np.abs(convolve(np.square(img), window, mode="nearest") - np.square(mu)))
    return ((img - mu) / (sigma + 1)).astype(np.float64)


def _half_size(img: np.ndarray) -> np.ndarray:
    """MATLAB imresize(img, 0.5) (bicubic, antialiased, symmetric borders), rows then columns,
    in float32 arithmetic like BasicSR's torch implementation."""
    from isp_viewer.io.resize import contributions

    a = np.asarray(img, np.float32)
    for axis in (0, 1):
        n = a.shape[axis]
        weights, indices = contributions(n, int(np.ceil(n * 0.5)), 0.5)
        moved = np.moveaxis(a, axis, 0)
        a = np.moveaxis(np.einsum("ik...,ik->i...", moved[indices], weights.astype(np.float32)), 0, axis)
    return a.astype(np.float32)


def niqe_y(y: np.ndarray, block: int = NIQE_BLOCK) -> float:
    """NIQE of an HxW luma plane on the 0-255 scale (already rounded as the convention says)."""
    mu_p, cov_p, window = _model()
    h, w = y.shape
    nh, nw = h // block, w // block
    if nh * nw < 2:
        raise InputError(f"NIQE needs at least two {block}x{block} blocks; the image is {w}x{h}")
    img = np.asarray(y, np.float32)[:nh * block, :nw * block]
    feats = []
    for scale in (1, 2):
        feats.append(_block_features(_blocks(_mscn(img, window), block // scale, block // scale, nh, nw)))
        if scale == 1:
            img = _half_size(img / np.float32(255.0)) * np.float32(255.0)
    dist = np.concatenate(feats, axis=1)
    mu_d = np.nanmean(dist, axis=0)
    cov_d = np.cov(dist[~np.isnan(dist).any(axis=1)], rowvar=False)
    diff = mu_p - mu_d
    return float(np.sqrt(np.squeeze(diff @ np.linalg.pinv((cov_p + cov_d) / 2) @ diff.T)))


def niqe(image: ArrayLike) -> float:
    """NIQE of an sRGB (or grey) image under NIQE_CONVENTION."""
    x = as_unit_array(image, "image")
    codes = _codes(x, "image")
    if codes.shape[2] == 3:
        # BasicSR's arithmetic step by step (float32 codes / 255, BGR dot in float64, / 255 * 255):
        # Y values within ~1e-5 of a .5 tie round the way BasicSR rounds them.
        bgr = codes[:, :, ::-1].astype(np.float32) / np.float32(255.0)
        y = ((np.dot(bgr, [24.966, 128.553, 65.481]) + 16.0) / 255.0).astype(np.float32) * np.float32(255.0)
    else:
        y = codes[:, :, 0].astype(np.float64)
    return niqe_y(np.round(y))
