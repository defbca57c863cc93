"""Reference images, packed-Bayer frames, simulated mosaics, classical baselines, the colour pipeline."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from isp_viewer.core.errors import InputError
from isp_viewer.io.develop import classical_demosaic, develop, network_input
from isp_viewer.io.images import cfa_masks, read_bayer_png, read_image, simulate_mosaic, write_image
from isp_viewer.io.open import open_any
from isp_viewer.io.raw import LibRawOptions, open_raw, render_libraw


def _psnr(a, b, border=4):
    d = a[border:-border, border:-border] - b[border:-border, border:-border]
    return 10 * np.log10(1.0 / np.mean(d.astype(np.float64) ** 2))


def test_read_8bit_png_pixel_values(data):
    img = read_image(data / "paired/kodak24/kodim01.png")
    raw = cv2.imread(str(data / "paired/kodak24/kodim01.png"))
    assert img.shape == (500, 500, 3) and not img.linear
    assert img.data[10, 20, 0] == pytest.approx(raw[10, 20, 2] / 255)   # RGB order, not BGR


def test_16bit_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 65536, (40, 30, 3), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "a.png"), x)
    img = read_image(tmp_path / "a.png")
    assert img.meta["bits"] == 16
    assert img.data[5, 7, 2] == pytest.approx(x[5, 7, 0] / 65535, abs=1e-7)
    write_image(tmp_path / "b.png", img, bits=16)
    assert np.array_equal(cv2.imread(str(tmp_path / "b.png"), cv2.IMREAD_UNCHANGED), x)


@pytest.mark.parametrize("cfa", ["RGGB", "BGGR", "GRBG", "GBRG"])
def test_simulated_mosaic_samples_the_right_colour(data, cfa):
    ref = read_image(data / "paired/kodak24/kodim03.png")
    m = simulate_mosaic(ref, cfa)
    letters = {"R": 0, "G": 1, "B": 2}
    for (r, c) in [(0, 0), (0, 1), (1, 0), (1, 1)]:
        ch = letters[cfa[r * 2 + c]]
        assert m.normalized()[100 + r, 200 + c] == pytest.approx(ref.data[100 + r, 200 + c, ch], abs=1e-4)
    assert m.cfa == cfa and m.meta["encoding"] == "srgb"
    assert cfa_masks(cfa, 4, 4).sum(axis=(0, 1)).tolist() == [4, 8, 4]


def test_packed_bayer_png(tmp_path):
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 1024, (64, 48), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "zurich.png"), frame)
    m = read_bayer_png(tmp_path / "zurich.png", "RGGB", bits=10)
    assert m.white_level == 1023 and m.cfa == "RGGB"
    assert m.normalized()[3, 5] == pytest.approx(frame[3, 5] / 1023, abs=1e-6)
    assert isinstance(open_any(tmp_path / "zurich.png", bayer_cfa="GRBG", bayer_bits=10), type(m))
    with pytest.raises(InputError, match="exceed"):
        read_bayer_png(tmp_path / "zurich.png", "RGGB", bits=8)


def test_classical_baselines_rank_on_kodak(data):
    ref = read_image(data / "paired/kodak24/kodim19.png")
    m = simulate_mosaic(ref, "GRBG")
    scores = {a: _psnr(classical_demosaic(m, a).data, ref.data) for a in ("bilinear", "malvar", "menon")}
    assert 25 < scores["bilinear"] < scores["malvar"] < scores["menon"] < 45


def test_colour_pipeline_matches_libraw(data):
    """Our white balance + camera matrix + curve on LibRaw-like bilinear data equals LibRaw's own."""
    path = data / "raw" / "Blackmagic.dng"
    raw = open_raw(path)
    ours = classical_demosaic(raw, "bilinear", output="linear")
    theirs = render_libraw(path, LibRawOptions("LINEAR", output="linear", bits=16))
    assert _psnr(ours.data, theirs.data, border=8) > 50


def test_network_input_is_white_balanced(data):
    raw = open_raw(data / "raw" / "Blackmagic.dng")
    x = network_input(raw, "camera")
    n = raw.normalized()
    assert x[0, 0] == pytest.approx(min(n[0, 0] * raw.white_balance_gains()[0], 1.0), abs=1e-6)   # R site
    assert x[0, 1] == pytest.approx(n[0, 1], abs=1e-6)                                             # G site
    img = develop(np.full((4, 4, 3), 0.5, np.float32), raw, "linear")
    assert img.linear and img.shape == (4, 4, 3)


def test_open_any_errors(tmp_path, data):
    (tmp_path / "x.xyz").write_bytes(b"hello")
    with pytest.raises(InputError, match="unsupported file type"):
        open_any(tmp_path / "x.xyz")
    with pytest.raises(InputError, match="actually a PNG"):
        open_any(data / "bad/png_renamed.CR2")
