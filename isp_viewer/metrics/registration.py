"""Alignment-aware scores for pairs that are not pixel-aligned (a photo of a screen, a second
capture, a network that shifts or warps its output).

A global transform is estimated from the grey (channel mean) images: a translation by phase
correlation (OpenCV's phaseCorrelate with a Hann window), then refined as a translation, an
affine map or a homography by OpenCV's findTransformECC (enhanced correlation coefficient,
Evangelidis & Psarakis 2008), started from that translation. The test image is resampled onto
the reference grid (bilinear); optionally each channel then gets the least-squares gain and
offset that match it to the reference over the valid pixels. Valid pixels are those whose whole
bilinear footprint lies inside the test image. Scores: PSNR/SSIM of the raw pair and of the
aligned pair, the latter on the largest axis-aligned rectangle of valid pixels (SSIM needs a
rectangle), both under the same `Convention`.

Matrix convention: `matrix` (3x3) maps reference-grid coordinates (x, y, 1) to the test image's
coordinates, i.e. aligned(x, y) = test(matrix @ (x, y, 1)). For a translation, test(x) equals
reference(x - shift): `shift` = (dx, dy) is how far the content moved in the test image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.core.region import Region
from isp_viewer.metrics.convention import ISP_PAPER, ArrayLike, Convention, as_unit_array
from isp_viewer.metrics.fidelity import PsnrSsim, psnr_ssim

Model = Literal["translation", "affine", "homography"]
MODELS = ("translation", "affine", "homography")
_ECC = {"translation": cv2.MOTION_TRANSLATION, "affine": cv2.MOTION_AFFINE, "homography": cv2.MOTION_HOMOGRAPHY}


@dataclass(frozen=True, eq=False)
class Registration:
    """The transform, the colour match and the test image on the reference grid.

    aligned: HxWxC float32 (clipped to [0, 1]); mask: HxW bool, True where valid;
    gains: C x 2 (gain, offset) per channel applied to the resampled test image to match the
        reference (a test that is 1.1 x too bright gets gain 1/1.1), or None without matching.
    """

    model: str
    matrix: np.ndarray
    aligned: np.ndarray
    mask: np.ndarray
    gains: np.ndarray | None
    correlation: float

    @property
    def shift(self) -> tuple[float, float]:
        return float(self.matrix[0, 2]), float(self.matrix[1, 2])

    @property
    def valid_fraction(self) -> float:
        return float(self.mask.mean())

    def describe(self) -> str:
        dx, dy = self.shift
        text = f"{self.model}: shift ({dx:+.3f}, {dy:+.3f}) px"
        if self.model != "translation":
            a = self.matrix[:2, :2]
            # positive = counter-clockwise on screen, as cv2.getRotationMatrix2D counts it
            angle = float(np.degrees(np.arctan2(a[0, 1] - a[1, 0], a[0, 0] + a[1, 1])))
            text += f", rotation {angle:+.3f} deg, scale {float(np.sqrt(abs(np.linalg.det(a)))):.4f}"
        if self.gains is not None:
            text += ", gains " + "/".join(f"{g:.3f}" for g in self.gains[:, 0])
        return text + f", {100 * self.valid_fraction:.1f}% valid"


@dataclass(frozen=True, eq=False)
class AlignedScores:
    raw: PsnrSsim
    aligned: PsnrSsim
    registration: Registration
    region: Region       # the valid rectangle the aligned scores use
    convention: str


def _grey(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.mean(axis=2, dtype=np.float32))


def _warp(img: np.ndarray, matrix: np.ndarray, size: tuple[int, int], perspective: bool) -> np.ndarray:
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    if perspective:
        out = cv2.warpPerspective(img, matrix, size, flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    else:
        out = cv2.warpAffine(img, matrix[:2], size, flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out.reshape(size[1], size[0], *img.shape[2:])


def phase_translation(test: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, float]:
    """(3x3 translation matrix, response) by Hann-windowed phase correlation: ECC's start."""
    h, w = reference.shape
    window = cv2.createHanningWindow((w, h), cv2.CV_32F)
    (dx, dy), response = cv2.phaseCorrelate(reference, test, window)
    return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], np.float64), float(response)


def estimate_transform(test: np.ndarray, reference: np.ndarray, model: Model = "translation",
                       iterations: int = 200, eps: float = 1e-7,
                       start: tuple[np.ndarray, float] | None = None) -> tuple[np.ndarray, float]:
    """(3x3 matrix in the module's convention, correlation score) from two same-size grey images;
    iterations=0 gives the phase-correlation translation without the ECC refinement. start: the
    pair's `phase_translation` when the caller already has it."""
    if model not in MODELS:
        raise InputError(f"unknown registration model {model!r}; choose from {', '.join(MODELS)}")
    h, w = reference.shape
    matrix, response = start if start is not None else phase_translation(test, reference)
    dx, dy = matrix[0, 2], matrix[1, 2]
    if iterations == 0:  # the phase-correlation estimate alone
        return matrix, response
    warp = matrix.astype(np.float32) if model == "homography" else matrix[:2].astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, eps)
    try:
        # The frame that the first estimate moves out of view is left out of the fit.
        margin = int(np.ceil(max(abs(dx), abs(dy)))) + 2
        inside = np.zeros((h, w), np.uint8)
        inside[margin:h - margin, margin:w - margin] = 1
        cc, found = cv2.findTransformECC(reference, test, warp, _ECC[model], criteria, inside, 5)
    except cv2.error as exc:
        if model == "translation":  # phase correlation alone is still a (coarser) answer
            return matrix, response
        raise InputError(f"{model} registration did not converge (images too different?): "
                         f"{str(exc).strip().splitlines()[-1]}") from None
    found = np.asarray(found, np.float64)
    out = np.eye(3)
    out[:found.shape[0]] = found
    return out, float(cc)


def _valid(shape: tuple[int, ...], matrix: np.ndarray, size: tuple[int, int], perspective: bool) -> np.ndarray:
    """Reference-grid pixels whose whole bilinear footprint lies inside the test image."""
    return _warp(np.ones(shape[:2], np.float32), matrix, size, perspective) >= np.float32(1 - 1e-4)


def _masked_mse(test: np.ndarray, reference: np.ndarray, matrix: np.ndarray, size: tuple[int, int],
                perspective: bool) -> tuple[float, np.ndarray]:
    """(MSE over the valid pixels, the valid mask) of `test` warped by `matrix`."""
    mask = _valid(test.shape, matrix, size, perspective)
    if not mask.any():
        return float("inf"), mask
    diff = _warp(test, matrix, size, perspective)[mask] - reference[mask]
    return float(np.mean(diff * diff)), mask


def _colour_match(aligned: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Least-squares (gain, offset) per channel mapping `aligned` onto `reference` over `mask`."""
    gains = np.zeros((aligned.shape[2], 2))
    for c in range(aligned.shape[2]):
        x = aligned[:, :, c][mask].astype(np.float64)
        y = reference[:, :, c][mask].astype(np.float64)
        design = np.stack([x, np.ones_like(x)], axis=1)
        gains[c] = np.linalg.lstsq(design, y, rcond=None)[0]
    return gains


def register(test: ArrayLike, reference: ArrayLike, model: Model = "translation",
             colour_match: bool = False) -> Registration:
    """Estimate the transform, resample `test` onto the reference grid, build the valid mask."""
    x = as_unit_array(test, "test image")
    y = as_unit_array(reference, "reference image")
    if x.shape[:2] != y.shape[:2]:
        raise InputError(f"registration needs images of one size: the test image is {x.shape[1]}x{x.shape[0]}, "
                         f"the reference {y.shape[1]}x{y.shape[0]} (map it onto the reference grid first)")
    if x.shape[2] != y.shape[2]:
        x, y = (np.repeat(x, 3, axis=2), y) if x.shape[2] == 1 else (x, np.repeat(y, 3, axis=2))
    if min(x.shape[:2]) < 16:
        raise InputError(f"registration needs at least 16x16 pixels, got {x.shape[1]}x{x.shape[0]}")
    gx, gy = _grey(x), _grey(y)
    start, response = phase_translation(gx, gy)
    matrix, score = estimate_transform(gx, gy, model, start=(start, response))
    size = (y.shape[1], y.shape[0])
    # ECC can wander off to a wrong optimum on ramps and periodic texture, where the phase
    # correlation start was right: keep whichever of the two fits the valid pixels better.
    perspective = model == "homography"
    start_mse, start_mask = _masked_mse(gx, gy, start, size, False)
    mse, mask = _masked_mse(gx, gy, matrix, size, perspective)
    if start_mse < mse:
        matrix, perspective, score, mask = start, False, response, start_mask
    aligned = _warp(np.ascontiguousarray(x), matrix, size, perspective)
    if not mask.any():
        raise InputError("registration left no valid pixels (the transform moves the image off the reference)")
    gains = None
    if colour_match:
        gains = _colour_match(aligned, y, mask)
        aligned = aligned * gains[:, 0].astype(np.float32) + gains[:, 1].astype(np.float32)
    aligned = np.clip(aligned, 0, 1).astype(np.float32)
    aligned[~mask] = 0
    return Registration(model, matrix, aligned, mask, gains, score)


def valid_rectangle(mask: np.ndarray) -> Region:
    """The largest-by-greedy-shrinking axis-aligned rectangle of True pixels of a convex mask
    (a warped rectangle is convex, so a rectangle whose four edges are valid is valid inside)."""
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    if rows.size == 0:
        raise InputError("no valid pixels")
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    while r1 > r0 and c1 > c0:
        bad = [(~mask[r0, c0:c1]).sum(), (~mask[r1 - 1, c0:c1]).sum(),
               (~mask[r0:r1, c0]).sum(), (~mask[r0:r1, c1 - 1]).sum()]
        worst = int(np.argmax(bad))
        if bad[worst] == 0:
            return Region(c0, r0, c1 - c0, r1 - r0)
        if worst == 0:
            r0 += 1
        elif worst == 1:
            r1 -= 1
        elif worst == 2:
            c0 += 1
        else:
            c1 -= 1
    raise InputError("no valid rectangle after registration")


def aligned_scores(test: ArrayLike, reference: ArrayLike, conv: Convention = ISP_PAPER,
                   model: Model = "translation", colour_match: bool = False) -> AlignedScores:
    """PSNR/SSIM of the raw pair and of the registered pair (on its valid rectangle), side by side."""
    reg = register(test, reference, model, colour_match)
    rect = valid_rectangle(reg.mask)
    raw = psnr_ssim(test, reference, conv)
    aligned = psnr_ssim(reg.aligned, reference, conv, region=rect)
    return AlignedScores(raw, aligned, reg, rect,
                         f"{conv.describe()}; aligned: {reg.describe()}, scored on {rect.w}x{rect.h} at "
                         f"({rect.x}, {rect.y})")
