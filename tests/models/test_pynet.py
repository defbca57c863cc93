"""PyNET port: manifest layout, golden forward, checkpoint format, Bayer handling of infer_pynet."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from isp_viewer.core.errors import ModelError
from isp_viewer.models.loading import load_strict, read_checkpoint
from isp_viewer.models.nets.pynet import SPECS, bayer_padding, build_pynet, infer_pynet, pack_bayer_pynet, pad_to_rggb
from tests.models.golden_utils import (
    assert_outputs_match,
    assert_state_dict_matches_manifest,
    fill_for_fixture,
    load_fixture,
    run_fixture,
)

PATTERNS = ("RGGB", "GRBG", "GBRG", "BGGR")


@pytest.fixture(scope="module")
def fixture(reference):
    return load_fixture(reference, "pynet")


@pytest.fixture(scope="module")
def net(reference, fixture):
    """PyNET with the golden fixture's crc32 weights (filling 47M weights takes seconds: once)."""
    meta, _ = fixture
    return fill_for_fixture(build_pynet(), reference, meta)


def natural_mosaic(size: int, pattern: str = "RGGB") -> np.ndarray:
    """A smooth, image-like Bayer mosaic in [0, 1] sampled on `pattern` (no natural image needed)."""
    yy, xx = np.mgrid[:size, :size] / size
    planes = {"R": 0.3 + 0.25 * np.sin(6 * xx + 2 * yy), "G": 0.5 + 0.3 * np.cos(4 * yy - 3 * xx),
              "B": 0.25 + 0.2 * np.sin(9 * xx * yy + 1)}
    out = np.empty((size, size), np.float32)
    for i in range(2):
        for j in range(2):
            out[i::2, j::2] = planes[pattern[2 * i + j]][i::2, j::2]
    return out


class ColourProbe(nn.Module):
    """Stand-in network that renders each packed cell as a 2x2 block of its own (R, mean G, B),
    so what infer feeds in, and where it puts the result, can be read off exactly."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # channels [B, G(0,1), R, G(1,0)]
        rgb = torch.stack([x[:, 2], (x[:, 1] + x[:, 3]) / 2, x[:, 0]], 1)
        return F.interpolate(rgb, scale_factor=2, mode="nearest")


def rggb_cell_colours(mosaic: np.ndarray) -> np.ndarray:
    """HxWx3 (R, mean G, B) of the RGGB 2x2 cell each pixel of an even-sized mosaic lies in."""
    r, b = mosaic[0::2, 0::2], mosaic[1::2, 1::2]
    g = (mosaic[0::2, 1::2] + mosaic[1::2, 0::2]) / 2
    return np.stack([r, g, b], -1).repeat(2, 0).repeat(2, 1)


def tile_core_error(infer, net, mosaic: np.ndarray, full: np.ndarray, context: int, core: int = 64) -> float:
    """Mean abs difference between the full-frame result and a tile's result on a central
    core x core square, the tile giving `context` pixels of extra input on every side."""
    a = (mosaic.shape[0] - core) // 2
    tile = infer(net, mosaic[a - context:a + core + context, a - context:a + core + context], cfa="RGGB")
    return float(np.abs(tile[context:context + core, context:context + core]
                        - full[a:a + core, a:a + core]).mean())


def test_state_dict_matches_manifest(reference):
    assert_state_dict_matches_manifest(build_pynet(), reference / "manifests" / "pynet.json")


def test_golden_crc32(net, fixture):
    meta, arrays = fixture
    assert_outputs_match(run_fixture(net, meta, arrays), meta, arrays)


def test_released_checkpoint_format_loads_strictly(net, tmp_path):
    # pynet_level_0.pth is saved from DataParallel: every key starts with "module.".
    path = tmp_path / "pynet_level_0.pth"
    torch.save({f"module.{k}": v for k, v in net.state_dict().items()}, path)
    fresh = load_strict(build_pynet(), read_checkpoint(path), path.name)
    probe = "conv_l1_d9.conv_9b.conv2d.weight"
    assert torch.equal(fresh.state_dict()[probe], net.state_dict()[probe])


def test_packing_order_is_b_gb_r_gr():
    codes = np.array([[1, 2], [3, 4]], np.float32)  # R=1, G(0,1)=2, G(1,0)=3, B=4
    packed = pack_bayer_pynet(np.tile(codes, (4, 4)))
    assert packed.shape == (4, 4, 4)
    assert [float(packed[c].mean()) for c in range(4)] == [4.0, 2.0, 1.0, 3.0]
    assert all(np.ptp(packed[c]) == 0 for c in range(4))


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("size", [(64, 64), (65, 97), (100, 70)])
def test_padding_puts_red_at_origin_and_sides_on_multiples(pattern, size):
    code = {"R": 1.0, "G": 2.0, "B": 3.0}
    cell = np.array([[code[pattern[0]], code[pattern[1]]], [code[pattern[2]], code[pattern[3]]]], np.float32)
    mosaic = np.tile(cell, (size[0] // 2 + 1, size[1] // 2 + 1))[: size[0], : size[1]]
    padded, (top, left) = pad_to_rggb(mosaic, pattern)
    assert padded.shape[0] % 32 == 0 and padded.shape[1] % 32 == 0
    assert np.array_equal(padded[top:top + size[0], left:left + size[1]], mosaic)
    assert np.all(padded[0::2, 0::2] == 1) and np.all(padded[1::2, 1::2] == 3)
    assert np.all(padded[0::2, 1::2] == 2) and np.all(padded[1::2, 0::2] == 2)
    assert bayer_padding(*size, pattern)[0] == (pattern in ("GBRG", "BGGR"))


@pytest.mark.parametrize("shape", [(64, 96), (70, 102)])
def test_infer_scales_to_raw_over_1020_and_clips(shape):
    """[0,1] is read as 10-bit /1020 (x * 1023/1020), packed [B,G,R,G], padded to multiples of
    32, run, cropped back and clipped."""
    mosaic = np.random.default_rng(0).uniform(0, 1, shape).astype(np.float32)
    mosaic[:2, :2] = 1.0  # a saturated cell: 1023/1020 > 1 must come back clipped
    got = infer_pynet(ColourProbe(), mosaic, cfa="RGGB")
    assert got.dtype == np.float32 and got.shape == (*shape, 3)
    want = np.minimum(rggb_cell_colours(mosaic) * (1023 / 1020), 1.0)
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert np.all(got[:2, :2] == 1.0)


@pytest.mark.parametrize(
    ("pattern", "crop"),
    [("GBRG", (1, 0, 0, 1)), ("GRBG", (0, 1, 1, 0)), ("BGGR", (1, 1, 1, 1)), ("RGGB", (0, 0, 1, 1))],
)
def test_other_cfa_phases_land_on_the_rggb_grid(pattern, crop):
    """Cropping one row/column off an RGGB frame changes its phase; infer must pad it back.

    The RGGB frame has reflected borders, so reflect-padding the crop rebuilds exactly that
    frame, and every output pixel must show the colours of its own RGGB cell.
    """
    frame = np.pad(natural_mosaic(94), 1, mode="reflect")  # 96x96, still RGGB-phased
    top, left, bottom, right = crop
    window = (slice(top, 96 - bottom), slice(left, 96 - right))
    got = infer_pynet(ColourProbe(), frame[window], cfa=pattern)
    assert got.shape == (96 - top - bottom, 96 - left - right, 3)
    np.testing.assert_allclose(got, rggb_cell_colours(frame)[window] * (1023 / 1020), atol=1e-6)


def test_bggr_crop_gives_the_network_the_rggb_frame(net):
    frame = np.pad(natural_mosaic(94), 1, mode="reflect")
    native = infer_pynet(net, frame, cfa="RGGB")
    np.testing.assert_allclose(infer_pynet(net, frame[1:, 1:], cfa="BGGR"), native[1:, 1:], atol=1e-5)
    # The same crop read with the wrong phase gives a visibly different image.
    wrong = infer_pynet(net, frame[1:, 1:], cfa="RGGB")
    assert np.abs(wrong - native[1:, 1:]).mean() > 1e-2


def test_tiles_need_context_and_are_never_exact(net):
    """Why the spec says tiling_safe=False: InstanceNorm uses each tile's own statistics, so
    a tile differs from the full frame however much context it gets; more context still helps.
    (Measured on 512x512 with this fill: the seam part of the error fades by ~130 px of context,
    hence tile_overlap=128; ~0.02 mean abs error remains from the per-tile statistics.)"""
    mosaic = natural_mosaic(192)
    full = infer_pynet(net, mosaic, cfa="RGGB")
    narrow, wide = (tile_core_error(infer_pynet, net, mosaic, full, c) for c in (16, 32))
    assert narrow > wide > 1e-3
    assert wide < 0.05
    assert not SPECS[0].tiling_safe and SPECS[0].tile_overlap == 128


@pytest.mark.parametrize(
    ("x", "cfa", "reason"),
    [
        (np.zeros((96, 96, 3), np.float32), "RGGB", "Bayer mosaic"),
        (np.zeros((96, 96), np.float32), None, "CFA pattern"),
        (np.zeros((96, 96), np.float32), "GRBGBR" * 6, "X-Trans"),
        (np.zeros((96, 96), np.float32), "RGBW", "does not support"),
        (np.zeros((48, 96), np.float32), "RGGB", "at least 64x64"),
    ],
)
def test_unusable_input_raises_model_error(x, cfa, reason):
    net = torch.nn.Identity()  # rejected before the network is touched
    with pytest.raises(ModelError, match=reason):
        infer_pynet(net, x, cfa=cfa)


def test_spec_facts():
    (spec,) = SPECS
    assert spec.id == "pynet" and spec.non_commercial and spec.license == "CC BY-NC-SA 4.0"
    assert spec.weights[0].names == ("pynet_level_0.pth",)
    assert spec.size_multiple == 32 and spec.min_size == 64 and spec.tile_align == 2
    assert "Huawei P20" in spec.notes
    assert not spec.fp16 and not spec.bf16
