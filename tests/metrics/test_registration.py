"""Registration: a known sub-pixel shift, a small rotation and channel gains are recovered."""

import cv2
import numpy as np
import pytest

from isp_viewer.analysis.aligned_maps import aligned_difference
from isp_viewer.core.errors import InputError
from isp_viewer.metrics.registration import aligned_scores, register, valid_rectangle


@pytest.fixture(scope="module")
def base():
    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur(rng.random((160, 200, 3)).astype(np.float32), (0, 0), 2.0)
    return (img - img.min()) / (img.max() - img.min())


def _warp(img, matrix):
    return cv2.warpAffine(img, np.float32(matrix), (img.shape[1], img.shape[0]), flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REFLECT)


@pytest.mark.parametrize("dx, dy", [(2.3, -1.7), (0.4, 0.25), (-5.6, 3.3)])
def test_sub_pixel_shift_is_recovered_within_0_1_px(base, dx, dy):
    test = _warp(base, [[1, 0, dx], [0, 1, dy]])  # content moved by (dx, dy)
    reg = register(test, base)
    assert reg.shift == pytest.approx((dx, dy), abs=0.1)
    assert reg.mask.mean() == pytest.approx((1 - abs(dx) / 200) * (1 - abs(dy) / 160), abs=0.03)
    scores = aligned_scores(test, base)
    assert scores.aligned.psnr > scores.raw.psnr + 10 and scores.aligned.ssim > 0.98 > scores.raw.ssim


def test_small_rotation_is_recovered_by_the_affine_model(base):
    rotation = cv2.getRotationMatrix2D((100, 80), 2.0, 1.0)
    test = _warp(base, rotation)
    reg = register(test, base, "affine")
    np.testing.assert_allclose(reg.matrix[:2, :2], rotation[:, :2], atol=2e-3)
    np.testing.assert_allclose(reg.matrix[:2, 2], rotation[:, 2], atol=0.2)
    assert "rotation +2.0" in reg.describe()
    homography = register(test, base, "homography")
    np.testing.assert_allclose(homography.matrix[:2, :2], rotation[:, :2], atol=3e-3)
    assert aligned_scores(test, base, model="affine").aligned.psnr > 40


def test_channel_gains_are_matched_by_least_squares(base):
    gains, offsets = np.float32([1.1, 0.9, 1.05]), np.float32([0.02, 0.0, -0.01])
    test = _warp(base * np.float32(0.8), [[1, 0, 1.5], [0, 1, 0]]) * gains + offsets  # stays in [0, 1]
    reg = register(test, base, "translation", colour_match=True)
    np.testing.assert_allclose(reg.gains[:, 0], 1 / (0.8 * gains), rtol=0.01)
    np.testing.assert_allclose(reg.gains[:, 1], -offsets / (0.8 * gains), atol=0.01)
    assert reg.shift == pytest.approx((1.5, 0.0), abs=0.1)
    plain = aligned_scores(test, base)
    matched = aligned_scores(test, base, colour_match=True)
    assert matched.aligned.psnr > plain.aligned.psnr + 10


def test_valid_rectangle_and_aligned_difference_map(base):
    reg = register(_warp(base, [[1, 0, 3.0], [0, 1, -2.0]]), base)
    rect = valid_rectangle(reg.mask)
    assert reg.mask[rect.y:rect.y + rect.h, rect.x:rect.x + rect.w].all()
    # aligned(x, y) = test(x + 3, y - 2): the right 3 columns and the top 2 rows have no source
    assert rect.x + rect.w <= 197 and rect.y >= 2 and rect.w * rect.h > 0.95 * 197 * 158
    m = aligned_difference(reg, base)
    assert np.isnan(m.data[:, 198:]).all() and np.isnan(m.data[:1]).all()
    assert np.isfinite(m.data[rect.y:rect.y + rect.h, rect.x:rect.x + rect.w]).all()
    assert 0 < m.suggested_range[1] < 0.05


def test_refusals(base):
    with pytest.raises(InputError, match="one size"):
        register(base[:100], base)
    with pytest.raises(InputError, match="unknown registration model"):
        register(base, base, "elastic")


def test_ecc_wandering_off_on_ramps_falls_back_to_phase_correlation():
    # Wrapping ramps: ECC, started from phase correlation, drifts to a far, worse optimum (22, -30 px).
    yy, xx = np.mgrid[:200, :200]
    ramps = np.stack([(xx * 1.2) % 256, (yy * 0.9) % 256, ((xx + yy) * 0.5) % 256], axis=2).astype(np.uint8)
    ramps = cv2.GaussianBlur(ramps, (0, 0), 1.5)
    moved = _warp(ramps, [[1, 0, 2.0], [0, 1, -1.0]])
    scores = aligned_scores(moved, ramps)
    assert max(abs(v) for v in scores.registration.shift) < 3
    assert scores.aligned.psnr >= scores.raw.psnr - 0.5
