"""PSNR / SSIM / MS-SSIM / FLIP against scikit-image, an independent BasicSR-style computation,
and an independent MS-SSIM; ROI metrics against metrics of the cropped images."""

from pathlib import Path

import cv2
import flip_evaluator
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image
from isp_viewer.core.region import Region
from isp_viewer.metrics import ISP_PAPER, MS_SSIM_WEIGHTS, SR_PAPER, Convention, flip, ms_ssim, psnr, psnr_ssim, ssim

SK_SSIM = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False)


def _pair(h=300, w=260, c=3, noise=0.03, seed=0):
    """A smooth image with texture and a noisy copy, float32 in [0, 1]."""
    rng = np.random.default_rng(seed)
    base = cv2.resize(rng.random((h // 10 + 1, w // 10 + 1, c)).astype(np.float32), (w, h),
                      interpolation=cv2.INTER_CUBIC).reshape(h, w, c)
    ref = np.clip(base + 0.05 * rng.standard_normal((h, w, c)), 0, 1).astype(np.float32)
    test = np.clip(ref + noise * rng.standard_normal((h, w, c)), 0, 1).astype(np.float32)
    return test, ref


def _sk_ssim(test, ref, data_range=1.0):
    t, r = test.astype(np.float64), ref.astype(np.float64)
    if t.ndim == 3 and t.shape[2] == 1:
        t, r = t[:, :, 0], r[:, :, 0]
    axis = 2 if t.ndim == 3 else None
    return structural_similarity(r, t, data_range=data_range, channel_axis=axis, **SK_SSIM)


@pytest.mark.parametrize("c", [3, 1])
@pytest.mark.parametrize("border", [0, 3])
def test_psnr_and_ssim_match_skimage_rgb(c, border):
    # 700 rows: the SSIM rows are split into several strips over several threads.
    test, ref = _pair(700, 230, c)
    conv = Convention(crop_border=border)
    s = (slice(border, 700 - border or None), slice(border, 230 - border or None))
    assert psnr(test, ref, conv) == pytest.approx(
        peak_signal_noise_ratio(ref[s].astype(np.float64), test[s].astype(np.float64), data_range=1.0), abs=1e-6)
    assert abs(ssim(test, ref, conv) - _sk_ssim(test[s], ref[s])) < 2e-5


def test_ssim_matches_skimage_on_flat_regions():
    # Nearly flat areas make sigma ~ 0, where float32 rounding would show first.
    ref = np.full((120, 140, 3), 0.7, np.float32)
    ref[40:80, 50:90] = 0.2
    test = (ref + np.float32(0.004) * np.sin(np.arange(140, dtype=np.float32) / 3)[None, :, None]).astype(np.float32)
    assert abs(ssim(test, ref) - _sk_ssim(test, ref)) < 2e-5


def test_uint8_convention_matches_skimage_on_codes():
    test, ref = _pair(200, 180)
    conv = Convention(quantize_uint8=True, data_range=255.0)
    t8 = np.rint(test * 255).astype(np.float64)
    r8 = np.rint(ref * 255).astype(np.float64)
    assert psnr(test, ref, conv) == pytest.approx(peak_signal_noise_ratio(r8, t8, data_range=255), abs=1e-6)
    assert abs(ssim(test, ref, conv) - _sk_ssim(t8, r8, data_range=255)) < 2e-5
    # uint8 arrays in are the same pixels as their float version
    assert psnr(t8.astype(np.uint8), r8.astype(np.uint8), conv) == pytest.approx(psnr(test, ref, conv), abs=1e-9)


def test_identical_images():
    _, ref = _pair(64, 64)
    assert psnr(ref, ref) == np.inf
    assert ssim(ref, ref) == pytest.approx(1.0, abs=1e-6)
    assert ms_ssim(np.tile(ref, (3, 3, 1)), np.tile(ref, (3, 3, 1))) == pytest.approx(1.0, abs=1e-6)


def test_psnr_ssim_together_equals_separate_calls():
    test, ref = _pair(120, 100)
    conv = SR_PAPER(2)
    both = psnr_ssim(test, ref, conv)
    assert both.psnr == psnr(test, ref, conv)
    assert both.ssim == ssim(test, ref, conv)


def test_image_and_array_inputs_agree():
    test, ref = _pair(80, 90)
    assert psnr(Image(test), Image(ref)) == psnr(test, ref)
    assert ssim(Image(test), ref) == ssim(test, ref)


def test_errors():
    test, ref = _pair(40, 40)
    with pytest.raises(InputError, match="align_to_reference"):
        psnr(test[:30], ref)
    with pytest.raises(InputError, match="11x11"):
        ssim(test[:8, :8], ref[:8, :8])
    with pytest.raises(InputError, match="176"):
        ms_ssim(test, ref)


# --- BasicSR convention, written independently from its documented behaviour -----------------

def _basicsr_y(img8: np.ndarray) -> np.ndarray:
    """Y in [16, 235] (float64) of an HxWx3 uint8 RGB image: 16 + (65.481 R + 128.553 G + 24.966 B) / 255."""
    rgb = img8.astype(np.float64)
    return 16.0 + (rgb @ np.array([65.481, 128.553, 24.966])) / 255.0


def _basicsr_psnr(a8, b8, crop):
    a = _basicsr_y(a8[crop:-crop, crop:-crop])
    b = _basicsr_y(b8[crop:-crop, crop:-crop])
    return 10 * np.log10(255.0 ** 2 / np.mean((a - b) ** 2))


def _basicsr_ssim(a8, b8, crop):
    """SSIM as BasicSR computes it: full 11x11 window via cv2.filter2D on float64, 'valid' crop."""
    a = _basicsr_y(a8[crop:-crop, crop:-crop])
    b = _basicsr_y(b8[crop:-crop, crop:-crop])
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    k = cv2.getGaussianKernel(11, 1.5)
    window = k @ k.T

    def f(x):
        return cv2.filter2D(x, -1, window)[5:-5, 5:-5]

    mu1, mu2 = f(a), f(b)
    s11 = f(a * a) - mu1 ** 2
    s22 = f(b * b) - mu2 ** 2
    s12 = f(a * b) - mu1 * mu2
    m = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1 ** 2 + mu2 ** 2 + c1) * (s11 + s22 + c2))
    return m.mean()


def _set5(data: Path):
    folder = data / "paired" / "sr_set5"
    out = []
    for path in sorted(folder.glob("*_GT.bmp")):
        hr = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        h, w = hr.shape[0] // 4 * 4, hr.shape[1] // 4 * 4
        hr = hr[:h, :w]
        lr = cv2.resize(hr, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
        sr = cv2.resize(lr, (w, h), interpolation=cv2.INTER_CUBIC)  # a x4 "method": bicubic
        out.append((path.stem, hr, sr))
    assert len(out) == 5, f"expected the five Set5 images in {folder}"
    return out


def test_sr_paper_convention_on_set5_matches_basicsr(data):
    conv = SR_PAPER(4)
    for name, hr, sr in _set5(data):
        # Our API takes [0, 1] floats; quantisation must bring back the very same codes.
        ours = psnr_ssim(sr.astype(np.float32) / 255, hr.astype(np.float32) / 255, conv)
        assert ours.psnr == pytest.approx(_basicsr_psnr(sr, hr, 4), abs=1e-4), name
        assert ours.ssim == pytest.approx(_basicsr_ssim(sr, hr, 4), abs=1e-4), name
        assert 20 < ours.psnr < 40 and 0.5 < ours.ssim < 1.0, name
        # ... and scikit-image on the same Y planes agrees too.
        y_sr, y_hr = _basicsr_y(sr[4:-4, 4:-4]), _basicsr_y(hr[4:-4, 4:-4])
        assert ours.ssim == pytest.approx(structural_similarity(y_hr, y_sr, data_range=255, **SK_SSIM), abs=1e-4)


def test_bicubic_x4_set5_psnr_is_in_the_published_range(data):
    # Bicubic x4 on Set5 (Y, crop 4) is 28.4 dB in the literature; resamplers differ slightly.
    values = [psnr(sr, hr, SR_PAPER(4)) for _, hr, sr in _set5(data)]
    assert 27.5 < float(np.mean(values)) < 29.5


# --- MS-SSIM ----------------------------------------------------------------------------------

def _ms_ssim_reference(x, y):
    """Independent MS-SSIM per channel: scipy Gaussian in float64, valid region, 2x2 means."""
    def terms(a, b):
        def g(t):
            return gaussian_filter(t, 1.5, truncate=3.5, mode="reflect")[5:-5, 5:-5]
        mu_a, mu_b = g(a), g(b)
        va, vb, cov = g(a * a) - mu_a ** 2, g(b * b) - mu_b ** 2, g(a * b) - mu_a * mu_b
        c1, c2 = 0.01 ** 2, 0.03 ** 2
        cs = (2 * cov + c2) / (va + vb + c2)
        return ((2 * mu_a * mu_b + c1) / (mu_a ** 2 + mu_b ** 2 + c1) * cs).mean(), cs.mean()

    def halve(a):
        a = np.pad(a, ((0, a.shape[0] % 2), (0, a.shape[1] % 2)), mode="edge")
        return 0.25 * (a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2])

    per_channel = []
    for ch in range(x.shape[2]):
        a, b = x[:, :, ch].astype(np.float64), y[:, :, ch].astype(np.float64)
        value = 1.0
        for j, w in enumerate(MS_SSIM_WEIGHTS):
            s, cs = terms(a, b)
            value *= (s if j == len(MS_SSIM_WEIGHTS) - 1 else cs) ** w
            a, b = halve(a), halve(b)
        per_channel.append(value)
    return float(np.mean(per_channel))


def test_ms_ssim_matches_independent_implementation():
    test, ref = _pair(181, 200, noise=0.06)  # odd height exercises the padding rule
    value = ms_ssim(test, ref)
    assert value == pytest.approx(_ms_ssim_reference(test, ref), abs=1e-4)
    assert 0.5 < value < 1.0
    worse = ms_ssim(*_pair(181, 200, noise=0.15))
    assert worse < value


# --- FLIP -------------------------------------------------------------------------------------

def test_flip_matches_flip_evaluator_and_is_zero_for_identical():
    test, ref = _pair(64, 72)
    mean, fmap = flip(test, ref)
    emap, emean, _ = flip_evaluator.evaluate(ref, test, "LDR", applyMagma=False)
    assert fmap.shape == (64, 72) and fmap.dtype == np.float32
    assert mean == pytest.approx(emean, abs=1e-6)
    assert np.allclose(fmap, emap[:, :, 0], atol=1e-6)
    assert mean == pytest.approx(float(fmap.mean()), abs=1e-4)
    assert flip(test, ref, ppd=30.0)[0] != mean  # viewing distance matters
    assert flip(Image(test.copy()), Image(ref.copy()))[0] == mean
    zero_mean, zero_map = flip(ref, ref)
    assert zero_mean == 0.0 and not zero_map.any()


# --- regions ----------------------------------------------------------------------------------

@pytest.mark.parametrize("conv", [ISP_PAPER, SR_PAPER(3), Convention(channel="y", crop_border=2)])
def test_region_metrics_equal_metrics_of_cropped_images(conv):
    test, ref = _pair(260, 300)
    region = Region(37, 21, 211, 190)
    tc, rc = region.crop(test), region.crop(ref)
    assert psnr(test, ref, conv, region) == psnr(tc, rc, conv)
    assert ssim(test, ref, conv, region) == ssim(tc, rc, conv)
    assert ms_ssim(test, ref, conv, Region(0, 0, 250, 200)) == ms_ssim(test[:200, :250], ref[:200, :250], conv)
    assert flip(test, ref, region)[0] == flip(tc, rc)[0]


def test_region_is_clipped_to_the_image():
    test, ref = _pair(50, 60)
    assert psnr(test, ref, region=Region(40, 30, 100, 100)) == psnr(test[30:, 40:], ref[30:, 40:])
