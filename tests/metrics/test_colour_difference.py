"""CIEDE2000 against Sharma, Wu & Dalal (2005) and colour-science; the two Y conventions."""

import numpy as np
import pytest

from isp_viewer.metrics.colour_difference import de2000, de2000_map, delta_e_2000, srgb_to_lab
from isp_viewer.metrics.convention import SR_PAPER, SR_PAPER_MATLAB, Y_CONVENTIONS, prepare_pair, rgb_to_y

# Table 1 of Sharma, Wu & Dalal (2005): (L1, a1, b1), (L2, a2, b2), dE00 to 4 decimals.
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, 2.8361, -74.0200), (50.0, 0.0, -82.7485), 3.4412),
    ((50.0, -1.3802, -84.2814), (50.0, 0.0, -82.7485), 1.0000),
    ((50.0, -1.1848, -84.8006), (50.0, 0.0, -82.7485), 1.0000),
    ((50.0, -0.9009, -85.5211), (50.0, 0.0, -82.7485), 1.0000),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, -1.0, 2.0), (50.0, 0.0, 0.0), 2.3669),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0009), 7.1792),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0010), 7.1792),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0011), 7.2195),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0012), 7.2195),
    ((50.0, -0.001, 2.49), (50.0, 0.0009, -2.49), 4.8045),
    ((50.0, -0.001, 2.49), (50.0, 0.0010, -2.49), 4.8045),
    ((50.0, -0.001, 2.49), (50.0, 0.0011, -2.49), 4.7461),
    ((50.0, 2.5, 0.0), (50.0, 0.0, -2.5), 4.3065),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((50.0, 2.5, 0.0), (61.0, -5.0, 29.0), 22.8977),
    ((50.0, 2.5, 0.0), (56.0, -27.0, -3.0), 31.9030),
    ((50.0, 2.5, 0.0), (58.0, 24.0, 15.0), 19.4535),
    ((50.0, 2.5, 0.0), (50.0, 3.1736, 0.5854), 1.0000),
    ((50.0, 2.5, 0.0), (50.0, 3.2972, 0.0), 1.0000),
    ((50.0, 2.5, 0.0), (50.0, 1.8634, 0.5757), 1.0000),
    ((50.0, 2.5, 0.0), (50.0, 3.2592, 0.3350), 1.0000),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((63.0109, -31.0961, -5.8663), (62.8187, -29.7946, -4.0864), 1.2630),
    ((61.2901, 3.7196, -5.3901), (61.4292, 2.2480, -4.9620), 1.8731),
    ((35.0831, -44.1164, 3.7933), (35.0232, -40.0716, 1.5901), 1.8645),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((36.4612, 47.8580, 18.3852), (36.2715, 50.5065, 21.2231), 1.4146),
    ((90.8027, -2.0831, 1.4410), (91.1528, -1.6435, 0.0447), 1.4441),
    ((90.9257, -0.5406, -0.9208), (88.6381, -0.8985, -0.7239), 1.5381),
    ((6.7747, -0.2908, -2.4247), (5.8714, -0.0985, -2.2286), 0.6377),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


def test_ciede2000_reproduces_the_34_sharma_pairs():
    lab1 = np.array([p[0] for p in SHARMA])
    lab2 = np.array([p[1] for p in SHARMA])
    expected = np.array([p[2] for p in SHARMA])
    assert len(SHARMA) == 34
    # The table is rounded to 4 decimals: agreement to half a unit of the last place.
    np.testing.assert_allclose(delta_e_2000(lab1, lab2), expected, atol=5e-5 + 1e-9, rtol=0)
    np.testing.assert_allclose(delta_e_2000(lab2, lab1), expected, atol=5e-5 + 1e-9, rtol=0)


def test_de2000_map_matches_colour_science_on_random_srgb():
    colour = pytest.importorskip("colour", reason="colour-science is the reference implementation")
    rng = np.random.default_rng(1)
    a, b = rng.random((40, 30, 3)), rng.random((40, 30, 3))
    ref_lab = [colour.XYZ_to_Lab(colour.sRGB_to_XYZ(v)) for v in (a, b)]
    np.testing.assert_allclose(srgb_to_lab(a), ref_lab[0], atol=1e-9)
    expected = colour.delta_E(ref_lab[0], ref_lab[1], method="CIE 2000")
    ours = de2000_map(a.astype(np.float32), b.astype(np.float32))
    assert ours.shape == (40, 30) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, expected, atol=2e-3)
    summary = de2000(a.astype(np.float32), b.astype(np.float32))
    assert summary.mean == pytest.approx(float(expected.mean()), abs=1e-3)
    assert summary.p95 == pytest.approx(float(np.percentile(expected, 95)), abs=2e-3)


def test_de2000_is_zero_for_identical_images_and_white_is_neutral():
    img = np.random.default_rng(2).random((8, 8, 3)).astype(np.float32)
    assert de2000(img, img).mean == 0.0
    lab = srgb_to_lab(np.ones((1, 1, 3)))
    assert lab[0, 0, 0] == pytest.approx(100.0, abs=1e-6) and abs(lab[0, 0, 1]) < 0.02


def _px(r, g, b):
    return np.array([[[r, g, b]]], np.uint8)


def test_the_two_y_conventions_are_named_and_differ_by_rounding():
    assert Y_CONVENTIONS["float"] == "BasicSR (Y in float from uint8 RGB)"
    assert Y_CONVENTIONS["matlab"] == "MATLAB (Y rounded to uint8, ties as MATLAB)"
    # (10, 200, 30): Y = 16 + (654.81 + 25710.6 + 748.98) / 255 = 122.3309... (MATLAB: 122)
    y_hand = 16 + (65.481 * 10 + 128.553 * 200 + 24.966 * 30) / 255
    x = _px(10, 200, 30)
    basicsr, _ = prepare_pair(x, x, SR_PAPER(0))
    matlab, _ = prepare_pair(x, x, SR_PAPER_MATLAB(0))
    assert float(basicsr[0, 0, 0]) * 255 == pytest.approx(y_hand, abs=1e-3) == pytest.approx(122.3309, abs=1e-4)
    assert float(matlab[0, 0, 0]) * 255 == pytest.approx(122.0, abs=1e-4)
    assert "BasicSR" in SR_PAPER(4).describe() and "MATLAB" in SR_PAPER_MATLAB(4).describe()


def test_matlab_y_rounds_half_away_from_zero():
    # Pure red: Y = 16 + 65.481 = 81.481 -> 81; a value of exactly k + 0.5 goes up, not to even.
    red = rgb_to_y(np.array([[[1.0, 0.0, 0.0]]], np.float32), "matlab")
    assert float(red[0, 0, 0]) * 255 == pytest.approx(81.0, abs=1e-4)
    from isp_viewer.metrics.convention import _round_y_matlab
    halves = np.array([[[80.5 / 255], [81.5 / 255]]], np.float32)
    np.testing.assert_allclose(_round_y_matlab(halves)[..., 0] * 255, [[81.0, 82.0]], atol=1e-4)
