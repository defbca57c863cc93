"""Conventions: BT.601 luma values, preset descriptions, input scaling and border/region handling."""

import dataclasses

import numpy as np
import pytest

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image
from isp_viewer.core.region import Region
from isp_viewer.metrics.convention import (
    ISP_PAPER,
    SR_PAPER,
    Convention,
    as_unit_array,
    prepare_pair,
    quantize_uint8,
    rgb_to_y,
)


def _px(r, g, b):
    return np.array([[[r, g, b]]], dtype=np.float32)


@pytest.mark.parametrize("rgb, y255", [
    ((1.0, 1.0, 1.0), 235.0),                     # white -> top of studio range
    ((0.0, 0.0, 0.0), 16.0),                      # black -> bottom of studio range
    ((1.0, 0.0, 0.0), 16.0 + 65.481),             # pure red: MATLAB rgb2ycbcr gives 81 (rounded)
    ((0.0, 1.0, 0.0), 16.0 + 128.553),
    ((0.0, 0.0, 1.0), 16.0 + 24.966),
    ((0.5, 0.25, 0.75), 16 + 65.481 * 0.5 + 128.553 * 0.25 + 24.966 * 0.75),
])
def test_bt601_luma_known_values(rgb, y255):
    y = rgb_to_y(_px(*rgb))
    assert y.shape == (1, 1, 1) and y.dtype == np.float32
    assert y[0, 0, 0] * 255 == pytest.approx(y255, abs=1e-4)


def test_bt601_red_rounds_like_matlab():
    assert round(float(rgb_to_y(_px(1, 0, 0))[0, 0, 0]) * 255) == 81


def test_preset_descriptions():
    sr = SR_PAPER(4)
    assert (sr.channel, sr.crop_border, sr.quantize_uint8, sr.data_range) == ("y", 4, True, 255.0)
    assert sr.describe() == "PSNR/SSIM on Y (BT.601, BasicSR float Y), crop 4 px, uint8, range 255"
    assert sr.name == "SR paper, BasicSR Y (Y, crop = scale, uint8)"
    assert ISP_PAPER.describe() == "PSNR/SSIM on RGB, no crop, float, range 1"
    assert ISP_PAPER.name == "ISP paper (RGB, [0,1])"
    with pytest.raises(dataclasses.FrozenInstanceError):
        sr.crop_border = 2


def test_invalid_conventions_are_rejected():
    with pytest.raises(ValueError):
        Convention(channel="lab")
    with pytest.raises(ValueError):
        Convention(crop_border=-1)
    with pytest.raises(ValueError):
        Convention(data_range=0)


def test_input_scaling_by_dtype():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)
    assert np.allclose(as_unit_array(codes), codes / 255.0, atol=1e-7)
    assert np.allclose(as_unit_array(codes.astype(np.uint16) * 257), codes / 255.0, atol=1e-7)
    grey = as_unit_array(np.zeros((4, 5), np.float64))
    assert grey.shape == (4, 5, 1) and grey.dtype == np.float32
    img = Image(codes / 255.0)
    assert as_unit_array(img) is img.data
    with pytest.raises(InputError):
        as_unit_array(np.zeros((4, 5, 2)))
    with pytest.raises(InputError):
        as_unit_array(np.zeros((4, 5), np.int32))


def test_quantize_rounds_to_codes_and_rejects_255_scale_floats():
    x = np.array([[[0.0, 0.5 / 255, 1.5 / 255]], [[0.3, 1.2, -0.1]]], dtype=np.float32)
    q = quantize_uint8(x[:1])
    assert np.allclose(q * 255, [[[0, 0, 2]]])  # ties to even, like torch.round
    with pytest.raises(InputError, match="values up to"):
        quantize_uint8(np.full((2, 2, 3), 200.0, np.float32))
    assert quantize_uint8(np.clip(x, 0, 1.001)).max() == 1.0


def test_prepare_pair_order_region_then_border_then_y():
    rng = np.random.default_rng(1)
    a = rng.random((40, 50, 3), dtype=np.float32)
    b = rng.random((40, 50, 3), dtype=np.float32)
    conv = Convention(channel="y", crop_border=2, quantize_uint8=True)
    region = Region(5, 7, 30, 20)
    x, y = prepare_pair(a, b, conv, region)
    expected = rgb_to_y(quantize_uint8(np.ascontiguousarray(a[9:25, 7:33])))
    assert x.shape == (16, 26, 1)
    assert np.allclose(x, expected, rtol=0, atol=1e-6)
    assert np.allclose(y, rgb_to_y(quantize_uint8(np.ascontiguousarray(b[9:25, 7:33]))), rtol=0, atol=1e-6)
    # Y comes from the 8-bit codes: 255 * Y - 16 is a combination of integers with the BT.601 weights
    codes = np.rint(a[9:25, 7:33].astype(np.float64) * 255)
    assert np.allclose(x[:, :, 0] * 255, 16 + codes @ np.array([65.481, 128.553, 24.966]) / 255, atol=1e-4)


def test_prepare_pair_errors_are_actionable():
    a = np.zeros((10, 10, 3), np.float32)
    with pytest.raises(InputError, match="align_to_reference"):
        prepare_pair(a, np.zeros((10, 12, 3), np.float32), ISP_PAPER)
    with pytest.raises(InputError, match="border"):
        prepare_pair(a, a, Convention(crop_border=5))
    with pytest.raises(InputError, match="outside"):
        prepare_pair(a, a, ISP_PAPER, Region(20, 20, 5, 5))


def test_grey_against_rgb_is_compared_on_every_channel():
    grey = np.full((8, 8, 1), 0.25, np.float32)
    rgb = np.full((8, 8, 3), 0.25, np.float32)
    x, y = prepare_pair(grey, rgb, ISP_PAPER)
    assert x.shape == y.shape == (8, 8, 3)
