"""Error maps: values at known pixels, display ranges, SSIM/FLIP maps, regions."""

import flip_evaluator
import numpy as np
import pytest
from skimage.metrics import structural_similarity

from isp_viewer.analysis import ErrorMap, error_map, shared_range, with_shared_range
from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image
from isp_viewer.core.region import Region


def _ref(h=40, w=50, seed=0):
    return np.random.default_rng(seed).uniform(0.2, 0.8, (h, w, 3)).astype(np.float32)


def test_pixel_errors_at_known_pixels():
    ref = _ref()
    test = ref.copy()
    test[3, 4] += np.float32([0.1, 0.2, -0.3])
    test[10, 20, 1] -= np.float32(0.05)
    absolute = error_map(test, ref, "absolute")
    assert absolute.data.shape == (40, 50) and absolute.data.dtype == np.float32
    assert absolute.data[3, 4] == pytest.approx(0.2, abs=1e-6)        # (0.1 + 0.2 + 0.3) / 3
    assert absolute.data[10, 20] == pytest.approx(0.05 / 3, abs=1e-6)
    assert absolute.data[0, 0] == 0.0
    signed = error_map(test, ref, "signed")
    assert signed.data[3, 4] == pytest.approx(0.0, abs=1e-6)
    assert signed.data[10, 20] == pytest.approx(-0.05 / 3, abs=1e-6)
    assert signed.diverging and not absolute.diverging
    squared = error_map(test, ref, "squared")
    assert squared.data[3, 4] == pytest.approx((0.01 + 0.04 + 0.09) / 3, abs=1e-6)
    relative = error_map(test, ref, "relative")
    expected = np.mean(np.abs(test[3, 4] - ref[3, 4]) / ref[3, 4])
    assert relative.data[3, 4] == pytest.approx(expected, rel=1e-5)
    one = error_map(test, ref, "absolute", channel=2)
    assert one.data[3, 4] == pytest.approx(0.3, abs=1e-6)


def test_relative_error_has_a_floor_for_black_references():
    ref = np.zeros((4, 4, 1), np.float32)
    test = np.full((4, 4, 1), 1 / 255, np.float32)
    assert np.allclose(error_map(test, ref, "relative").data, 1.0)


def test_suggested_ranges():
    ref = _ref(100, 100)
    rng = np.random.default_rng(1)
    test = ref + rng.normal(0, 0.05, ref.shape).astype(np.float32)
    absolute = error_map(test, ref, "absolute")
    assert absolute.suggested_range == pytest.approx((0.0, float(np.percentile(absolute.data, 99))), rel=1e-6)
    signed = error_map(test, ref, "signed")
    lo, hi = signed.suggested_range
    assert lo == -hi and hi == pytest.approx(float(np.percentile(np.abs(signed.data), 99)), rel=1e-6)
    assert error_map(test, ref, "ssim").suggested_range == (0.0, 1.0)
    same = error_map(ref, ref, "absolute")
    assert same.suggested_range[1] > 0  # never an empty range


def test_shared_range_covers_all_methods():
    ref = _ref(60, 60)
    rng = np.random.default_rng(2)
    good = error_map(ref + rng.normal(0, 0.01, ref.shape).astype(np.float32), ref)
    bad = error_map(ref + rng.normal(0, 0.1, ref.shape).astype(np.float32), ref)
    lo, hi = shared_range([good, bad])
    both = np.concatenate([good.data.ravel(), bad.data.ravel()])
    assert (lo, hi) == pytest.approx((0.0, float(np.percentile(both, 99))), rel=1e-6)
    assert good.suggested_range[1] < hi <= bad.suggested_range[1] * 1.001
    shared = with_shared_range([good, bad])
    assert all(m.suggested_range == (lo, hi) for m in shared)
    assert shared[0].data is good.data
    with pytest.raises(ValueError):
        shared_range([good, error_map(ref, ref, "signed")])


def test_ssim_map_matches_skimage_full_map():
    ref = _ref(48, 64)
    test = np.clip(ref + np.random.default_rng(3).normal(0, 0.05, ref.shape), 0, 1).astype(np.float32)
    m = error_map(test, ref, "ssim")
    _, full = structural_similarity(ref.astype(np.float64), test.astype(np.float64), data_range=1.0, channel_axis=2,
                                    gaussian_weights=True, sigma=1.5, use_sample_covariance=False, full=True)
    assert m.data.shape == (48, 64)
    assert np.abs(m.data - full.mean(axis=2)).max() < 1e-4
    assert np.allclose(error_map(ref, ref, "ssim").data, 1.0, atol=1e-5)


def test_flip_map_matches_flip_evaluator():
    ref = _ref(32, 40)
    test = np.clip(ref + 0.1, 0, 1).astype(np.float32)
    m = error_map(Image(test), Image(ref), "flip")
    # Image() froze our arrays in place; nanobind wants writeable ones.
    fmap, _, _ = flip_evaluator.evaluate(ref.copy(), test.copy(), "LDR", applyMagma=False)
    assert np.allclose(m.data, fmap[:, :, 0], atol=1e-6)
    assert m.suggested_range == (0.0, 1.0) and not m.diverging


@pytest.mark.parametrize("kind", ["absolute", "signed", "squared", "relative", "ssim", "flip"])
def test_region_map_equals_map_of_cropped_images(kind):
    ref = _ref(60, 70)
    test = np.clip(ref + np.random.default_rng(4).normal(0, 0.05, ref.shape), 0, 1).astype(np.float32)
    region = Region(7, 9, 40, 30)
    a = error_map(test, ref, kind, region=region)
    b = error_map(region.crop(test), region.crop(ref), kind)
    assert a.data.shape == (30, 40)
    assert np.array_equal(a.data, b.data)
    assert a.suggested_range == b.suggested_range


def test_errors_and_frozen_value():
    ref = _ref()
    with pytest.raises(InputError, match="reference grid"):
        error_map(ref[:20], ref)
    with pytest.raises(ValueError):
        error_map(ref, ref, "laplacian")
    with pytest.raises(InputError):
        error_map(ref, ref, channel=3)
    m = error_map(ref, ref)
    assert isinstance(m, ErrorMap) and not m.data.flags.writeable
