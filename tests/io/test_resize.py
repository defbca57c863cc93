"""MATLAB-style bicubic downscaling (the SR papers' LR inputs), checked against independent values."""

from __future__ import annotations

import numpy as np
import pytest

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image
from isp_viewer.io.resize import contributions, cubic, imresize, parse_simulate_lr, simulate_low_resolution


def test_cubic_kernel_values_by_hand() -> None:
    # Keys a = -0.5: 1.5|x|^3 - 2.5|x|^2 + 1 on [0, 1]; -0.5|x|^3 + 2.5|x|^2 - 4|x| + 2 on (1, 2]
    x = np.array([0.0, 0.25, 0.75, 1.0, 1.25, 1.75, 2.0, 2.5])
    assert cubic(x) == pytest.approx([1.0, 0.8671875, 0.2265625, 0.0, -0.0703125, -0.0234375, 0.0, 0.0])


def test_x2_antialiased_weights_are_the_known_eight_taps() -> None:
    # Shrinking by 2: h(x) = cubic(x/2)/2, 8 taps at distances ±0.5, ±1.5, ±2.5, ±3.5 from the centre.
    weights, indices = contributions(32, 16, 0.5)
    half = np.array([-0.0234375, -0.0703125, 0.2265625, 0.8671875]) / 2
    assert weights[5] == pytest.approx(np.concatenate([half, half[::-1]]))
    # output 6 (1-based) sits at input 2*6 - 0.5 = 11.5: taps on inputs 8..15 (1-based) = 7..14
    assert indices[5].tolist() == list(range(7, 15))
    # at the border the taps mirror (symmetric padding): input 0, -1 -> 1, 2 ...
    assert indices[0].tolist() == [2, 1, 0, 0, 1, 2, 3, 4]


def test_linear_ramp_is_reproduced_in_the_interior() -> None:
    # cubic convolution reproduces linear functions: output u (1-based) lands on input x = s*u + (1 - s)/2
    for s in (2, 3, 4, 8):
        ramp = np.arange(1, 8 * s * 4 + 1, dtype=np.float64)
        out = imresize(np.tile(ramp, (4 * s, 1)), 1 / s, (4, ramp.size // s))[1]
        u = np.arange(1, out.size + 1)
        inner = slice(3, -3)
        assert out[inner] == pytest.approx((s * u + (1 - s) / 2)[inner], abs=1e-9)


def test_interior_matches_pillow_bicubic_an_independent_implementation() -> None:
    # Pillow's BICUBIC reduction is the same antialiased Keys kernel (a = -0.5); it differs from
    # MATLAB only at the borders (it renormalises where MATLAB mirrors), so compare the interior.
    from PIL import Image as PILImage

    rng = np.random.default_rng(3)
    hr = rng.random((96, 120))
    for s in (2, 3, 4):
        ours = imresize(hr, 1 / s, (96 // s, 120 // s))
        pil = np.asarray(PILImage.fromarray(hr.astype(np.float32), "F").resize((120 // s, 96 // s),
                                                                                  PILImage.Resampling.BICUBIC))
        m = 2 * s   # outputs whose 4s-wide kernel stays inside the image
        assert np.abs(ours[m:-m, m:-m] - pil[m:-m, m:-m]).max() < 2e-5


def test_simulate_low_resolution_crops_quantises_and_states_it() -> None:
    rng = np.random.default_rng(0)
    gt = Image(rng.random((50, 43, 3)).astype(np.float32), label="gt.png", source="/data/gt.png")
    hr, lr = simulate_low_resolution(gt, 4)
    assert hr.shape == (48, 40, 3) and lr.shape == (12, 10, 3)
    assert np.array_equal(hr.data, gt.data[:48, :40])
    assert np.allclose(lr.data * 255, np.round(lr.data * 255), atol=1e-3)   # 8-bit codes
    assert lr.meta["simulated_lr"] == 4 and "antialiased" in lr.meta["lr_kernel"]
    flat = Image(np.full((16, 16, 3), 0.5, np.float32))
    assert np.allclose(simulate_low_resolution(flat, 2, quantize=False)[1].data, 0.5)


def test_bad_specs_are_one_clear_error() -> None:
    assert parse_simulate_lr("bicubic:4") == 4
    for bad in ("bicubic:5", "lanczos:4", "4", "bicubic:x"):
        with pytest.raises(InputError, match="bicubic:S"):
            parse_simulate_lr(bad)
    with pytest.raises(InputError, match="too small"):
        simulate_low_resolution(Image(np.zeros((10, 10, 3), np.float32)), 8)
