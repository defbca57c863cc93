"""PyNET-CA port: manifest layout, golden forward, [-1,1] mapping, CFA phase, self-ensemble."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from isp_viewer.core.errors import ModelError
from isp_viewer.models.nets.pynet import pack_bayer_pynet
from isp_viewer.models.nets.pynet_ca import SPECS, build_pynet_ca, infer_pynet_ca
from tests.models.golden_utils import (
    assert_outputs_match,
    assert_state_dict_matches_manifest,
    fill_for_fixture,
    load_fixture,
    run_fixture,
)
from tests.models.test_pynet import ColourProbe, natural_mosaic, rggb_cell_colours, tile_core_error


@pytest.fixture(scope="module")
def fixture(reference):
    return load_fixture(reference, "pynet_ca")


@pytest.fixture(scope="module")
def net(reference, fixture):
    """PyNET-CA with the golden fixture's crc32 weights (51M weights: filled once)."""
    meta, _ = fixture
    return fill_for_fixture(build_pynet_ca(), reference, meta)


def test_state_dict_matches_manifest(reference):
    assert_state_dict_matches_manifest(build_pynet_ca(), reference / "manifests" / "pynet_ca.json")


def test_golden_crc32(net, fixture):
    meta, arrays = fixture
    assert_outputs_match(run_fixture(net, meta, arrays), meta, arrays)


def test_only_level_0_is_offered(net):
    with pytest.raises(ValueError, match="level=0"):
        net(torch.zeros(1, 4, 32, 32), level=1)


def test_infer_maps_to_and_from_minus_one_one():
    """Our [0,1] is upstream's raw/1023: the network sees x * 2 - 1 and y maps back as (y+1)/2,
    so a probe network that echoes its input returns each cell's own colours."""
    mosaic = np.random.default_rng(1).uniform(0, 1, (70, 96)).astype(np.float32)
    got = infer_pynet_ca(ColourProbe(), mosaic, cfa="RGGB")
    assert got.dtype == np.float32 and got.shape == (70, 96, 3)
    np.testing.assert_allclose(got, rggb_cell_colours(mosaic), atol=1e-6)


def test_bggr_crop_lands_on_the_rggb_grid():
    # Reflected borders make the reflect-padded crop identical to the RGGB frame.
    frame = np.pad(natural_mosaic(94), 1, mode="reflect")
    got = infer_pynet_ca(ColourProbe(), frame[1:, 1:], cfa="BGGR")
    assert got.shape == (95, 95, 3)
    np.testing.assert_allclose(got, rggb_cell_colours(frame)[1:, 1:], atol=1e-6)


class AsymmetricNet(nn.Module):
    """Cheap stand-in with random 3x3 filters, so every flip/transpose changes its output."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(3)
        self.body = nn.Sequential(nn.Conv2d(4, 12, 3, padding=1), nn.PixelShuffle(2), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def _upstream_transforms():
    """Upstream's 8 (transpose, flip-dims) pairs: transpose for k >= 4, flips indexed by k // 2."""
    flips = {0: (), 1: (-1,), 2: (-2,), 3: (-1, -2)}
    return [(k // 4 == 1, flips[k // 2]) for k in range(8)]


def test_self_ensemble_is_upstreams_eight_way_mean():
    net = AsymmetricNet().eval()
    mosaic = natural_mosaic(64)
    packed = torch.from_numpy(pack_bayer_pynet(mosaic) * 2.0 - 1.0)[None]
    outs = []
    with torch.no_grad():
        for transpose, dims in _upstream_transforms():
            t = packed.transpose(-1, -2) if transpose else packed
            y = net(t.flip(dims) if dims else t)
            y = y.flip(dims) if dims else y
            outs.append(y.transpose(-1, -2) if transpose else y)
    want = ((torch.stack(outs).mean(0)[0] + 1) / 2).permute(1, 2, 0).numpy()
    got = infer_pynet_ca(net, mosaic, cfa="RGGB", self_ensemble=True)
    np.testing.assert_allclose(got, want, atol=1e-6)
    plain = infer_pynet_ca(net, mosaic, cfa="RGGB")
    assert np.abs(got - plain).mean() > 1e-3


def test_tiles_need_context_and_are_never_exact(net):
    """InstanceNorm and channel attention use each tile's own statistics, so tiles differ from
    the full frame however much context they get (tiling_safe=False). Measured on 512x512 with
    this fill, the seam part of the error stops shrinking at ~110 px of context (upstream itself
    tiles 448 px patches with 112 px overlap), hence tile_overlap=128."""
    mosaic = natural_mosaic(192)
    full = infer_pynet_ca(net, mosaic, cfa="RGGB")
    narrow, wide = (tile_core_error(infer_pynet_ca, net, mosaic, full, c) for c in (16, 32))
    assert narrow > wide > 1e-3
    assert wide < 0.02
    assert not SPECS[0].tiling_safe and SPECS[0].tile_overlap == 128


@pytest.mark.parametrize(
    ("x", "cfa", "reason"),
    [
        (np.zeros((96, 96, 3), np.float32), "RGGB", "Bayer mosaic"),
        (np.zeros((96, 96), np.float32), "RGGBRG" * 6, "X-Trans"),
        (np.zeros((96, 40), np.float32), "BGGR", "at least 64x64"),
    ],
)
def test_unusable_input_raises_model_error(x, cfa, reason):
    with pytest.raises(ModelError, match=reason):
        infer_pynet_ca(torch.nn.Identity(), x, cfa=cfa)


def test_spec_facts():
    (spec,) = SPECS
    assert spec.id == "pynet_ca" and spec.license == "GPL-3.0" and not spec.non_commercial
    names = {n for w in spec.weights for n in w.names}
    assert names == {"model_early_fidelity.pth", "model_early_perceptual.pth"}
    assert spec.size_multiple == 32 and spec.min_size == 64 and spec.tile_align == 2
    assert spec.options == {"self_ensemble": False}
    assert "Huawei P20" in spec.notes
