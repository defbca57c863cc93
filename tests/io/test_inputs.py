"""Inputs researchers really feed the tool: scanner stacks with a wrong white level, pruned files,
folders with image names, lying PNG headers, NumPy Bayer arrays, tiny images, odd ROIs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image
from isp_viewer.core.region import Region, fit_region
from isp_viewer.io.arrays import read_bayer_array
from isp_viewer.io.checks import check_input_file, fit_white_level
from isp_viewer.io.dng import write_linear_dng
from isp_viewer.io.images import check_output_path, read_image, simulate_mosaic, write_image
from isp_viewer.io.open import ALL_SUFFIXES, SUPPORTED_SUFFIXES, open_any
from isp_viewer.io.raw import LibRawOptions, open_raw, quick_preview, render_libraw


def scanner_rgb(h: int = 48, w: int = 64) -> np.ndarray:
    """16-bit linear RGB ramps up to 54998, as a film scanner writes them."""
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([x * 54998 // (w - 1), y * 54998 // (h - 1), (x + y) * 40000 // (h + w - 2)], -1)
    return rgb.astype(np.uint16)


# 1 -- white level from the data ------------------------------------------------------------------

def test_stack_with_white_level_below_its_data_uses_the_bits_used(tmp_path):
    rgb = scanner_rgb()
    path = write_linear_dng(tmp_path / "scan.dng", rgb, white=255, make="Nikon", model="LS-5000")
    image = open_raw(path)
    assert isinstance(image, Image) and image.linear
    assert image.meta["white_level"] == 65535 and image.meta["white_level_stated"] == 255
    assert "255" in image.meta["warnings"][0] and "16 bits" in image.meta["warnings"][0]
    assert float(np.mean(image.data >= 1.0)) < 0.01                       # was 87 % clipped
    assert np.abs(image.data - rgb / 65535).max() < 1e-3                 # values kept, not stretched
    render = render_libraw(path, LibRawOptions(output="linear", bits=16))
    assert render.meta["warnings"] == image.meta["warnings"]
    assert np.abs(render.data - image.data).max() < 1e-3
    assert quick_preview(path).mean() > 20                                # the preview agrees


def test_stack_whose_white_level_fits_has_no_warning(tmp_path):
    path = write_linear_dng(tmp_path / "fine.dng", scanner_rgb(), white=65535)
    image = open_raw(path)
    assert image.meta["white_level"] == 65535 and "warnings" not in image.meta


def test_fit_white_level_rule():
    assert fit_white_level(np.array([0, 200]), 255) == (255, None)
    white, warning = fit_white_level(np.array([0, 3000]), 255)
    assert white == 4095 and "12 bits" in warning


# 2 -- one plausibility check for every path --------------------------------------------------

def test_pruned_dng_is_refused_by_open_render_and_preview(data):
    path = data / "raw" / "IMG_1361.dng"
    for call in (open_raw, render_libraw, quick_preview, open_any):
        with pytest.raises(InputError, match="no image data"):
            call(path)


# 3 -- output types -------------------------------------------------------------------------------

def test_unsupported_output_types_are_named(tmp_path):
    with pytest.raises(InputError, match=r"\.jpx.*\.png \.tif \.tiff \.jpg \.jpeg \.bmp"):
        check_output_path(tmp_path / "out.jpx")
    with pytest.raises(InputError, match="8 bits"):
        check_output_path(tmp_path / "out.jpg", bits=16)
    check_output_path(tmp_path / "out.tif", bits=16)
    with pytest.raises(InputError, match="jpx"):
        write_image(tmp_path / "out.jpx", np.zeros((2, 2, 3), np.float32), bits=8)
    assert not (tmp_path / "out.jpx").exists()


# 4 -- tiny images --------------------------------------------------------------------------------

def test_one_pixel_image_is_named_by_its_size_when_simulating(tmp_path):
    cv2.imwrite(str(tmp_path / "one.png"), np.full((1, 1, 3), 90, np.uint8))
    with pytest.raises(InputError, match=r"one.png is 1x1; .* at least 2x2"):
        simulate_mosaic(read_image(tmp_path / "one.png"), "GRBG")
    np.save(tmp_path / "one.npy", np.full((1, 1), 7, np.uint16))
    with pytest.raises(InputError, match=r"one.npy is 1x1; a Bayer frame needs at least 2x2"):
        read_bayer_array(tmp_path / "one.npy", "RGGB")


# 6 -- folders ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["x.png", "x.dng", "x.npy", "x.unknown"])
def test_a_folder_is_a_folder_whatever_its_name(tmp_path, name):
    (tmp_path / name).mkdir()
    with pytest.raises(InputError, match=f"^{name}: is a folder, not a file$"):
        open_any(tmp_path / name)
    with pytest.raises(InputError, match="file not found"):
        open_any(tmp_path / f"missing{name}")


def test_check_input_file_empty(tmp_path):
    (tmp_path / "e.png").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        check_input_file(tmp_path / "e.png")


# 7 -- decoder chatter ----------------------------------------------------------------------------

def lying_png(path) -> None:
    """A valid 16x16 PNG whose IHDR claims 4000 rows (CRC fixed, so only the data is short)."""
    import struct
    import zlib

    _, enc = cv2.imencode(".png", np.full((16, 16, 3), 128, np.uint8))
    b = bytearray(enc.tobytes())
    struct.pack_into(">I", b, 20, 4000)
    struct.pack_into(">I", b, 29, zlib.crc32(bytes(b[12:29])) & 0xFFFFFFFF)
    path.write_bytes(bytes(b))


def test_lying_png_header_gives_one_message_with_the_decoder_reason(tmp_path, capfd):
    lying_png(tmp_path / "liar.png")
    with pytest.raises(InputError) as info:
        read_image(tmp_path / "liar.png")
    assert "Not enough image data" in str(info.value)
    assert capfd.readouterr().err == ""                     # nothing reached the terminal


# 9 -- NumPy Bayer arrays --------------------------------------------------------------------------

def _mosaic(h=32, w=48, bits=12, seed=0):
    return np.random.default_rng(seed).integers(0, 1 << bits, (h, w), dtype=np.uint16)


def test_packed_planes_npy_unpack_in_cell_order(tmp_path):
    mosaic = _mosaic()
    planes = np.stack([mosaic[0::2, 0::2], mosaic[0::2, 1::2], mosaic[1::2, 0::2], mosaic[1::2, 1::2]], -1)
    np.save(tmp_path / "p.npy", planes)
    raw = read_bayer_array(tmp_path / "p.npy", "RGGB", bits=12)
    assert np.array_equal(raw.mosaic, mosaic) and raw.white_level == 4095 and raw.cfa == "RGGB"
    assert raw.normalized()[5, 7] == pytest.approx(mosaic[5, 7] / 4095, abs=1e-6)
    np.save(tmp_path / "chw.npy", np.moveaxis(planes, -1, 0))
    assert np.array_equal(read_bayer_array(tmp_path / "chw.npy", "RGGB", 12).mosaic, mosaic)
    assert open_any(tmp_path / "p.npy", bayer_cfa="GRBG", bayer_bits=12).cfa == "GRBG"


def test_mosaic_npz_and_float_arrays(tmp_path):
    mosaic = _mosaic(bits=10)
    np.savez(tmp_path / "m.npz", raw=mosaic)
    raw = read_bayer_array(tmp_path / "m.npz", "BGGR", bits=10)
    assert np.array_equal(raw.mosaic, mosaic) and raw.meta["layout"] == "mosaic"
    np.save(tmp_path / "f.npy", (mosaic / 1023).astype(np.float32))
    assert np.array_equal(read_bayer_array(tmp_path / "f.npy", "BGGR", bits=10).mosaic, mosaic)


def test_bad_arrays_are_refused_with_the_reason(tmp_path):
    np.save(tmp_path / "m.npy", _mosaic(bits=12))
    with pytest.raises(InputError, match="--bayer-cfa"):
        open_any(tmp_path / "m.npy")
    with pytest.raises(InputError, match="do not fit the stated 10-bit"):
        read_bayer_array(tmp_path / "m.npy", "RGGB", bits=10)
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="pickles"):
        read_bayer_array(tmp_path / "obj.npy", "RGGB")
    np.save(tmp_path / "rgb.npy", np.zeros((8, 8, 3), np.uint16))
    with pytest.raises(InputError, match=r"shape \(8, 8, 3\)"):
        read_bayer_array(tmp_path / "rgb.npy", "RGGB")
    np.save(tmp_path / "zero.npy", np.zeros((8, 8), np.uint16))
    with pytest.raises(InputError, match="no image data"):
        read_bayer_array(tmp_path / "zero.npy", "RGGB")
    np.savez(tmp_path / "two.npz", a=_mosaic(), b=_mosaic())
    with pytest.raises(InputError, match="2 arrays"):
        read_bayer_array(tmp_path / "two.npz", "RGGB", 12)


def test_supported_suffixes_are_exposed_for_file_dialogs():
    assert ".npy" in SUPPORTED_SUFFIXES["Bayer array"] and ".dng" in SUPPORTED_SUFFIXES["camera RAW"]
    assert ".png" in ALL_SUFFIXES and all(s.startswith(".") and s == s.lower() for s in ALL_SUFFIXES)


# 10 -- ROI rule ----------------------------------------------------------------------------------

def test_roi_rule_keeps_clamps_or_refuses():
    assert fit_region(Region(10, 10, 20, 20), 100, 80) == (Region(10, 10, 20, 20), None)
    clamped, warning = fit_region(Region(90, -5, 20, 20), 100, 80)
    assert clamped == Region(90, 0, 10, 15) and "(90, -5, 20, 20)" in warning and "(90, 0, 10, 15)" in warning
    with pytest.raises(InputError, match="outside the 100x80"):
        fit_region(Region(200, 0, 5, 5), 100, 80)
    with pytest.raises(InputError, match="empty"):
        fit_region(Region(0, 0, 0, 5), 100, 80)
    assert Region.parse("1,2,3,4") == Region(1, 2, 3, 4)
    for bad in ("1,2,3", "a,b,c,d", "0,0,-4,4"):
        with pytest.raises(InputError, match="x,y,w,h"):
            Region.parse(bad)
