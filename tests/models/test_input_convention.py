"""Each RAW network receives the mosaic its descriptor's input convention states: fed a camera RAW
with a strong as-shot white balance and a black pedestal, PyNET/PyNET-CA see the stored values
(no white balance, pedestal kept), CycleISP black-subtracted unbalanced RAW, demosaicnet/SGNet the
white-balanced mosaic. The packed tensors are caught at the network's door (a stub module)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from isp_viewer.core.image import Image
from isp_viewer.io.develop import network_input
from isp_viewer.io.images import simulate_mosaic
from isp_viewer.io.raw import RawMosaic
from isp_viewer.models.adapters import prepare_input, raw_input, reference_option, to_developed
from isp_viewer.models.registry import all_specs, get_spec
from isp_viewer.models.spec import InputConvention, InputKind

RAW = {"R": 300, "G": 500, "B": 250}     # 10-bit stored values per colour
BLACK, WHITE = 64, 1023
WB = (2.5, 1.0, 1.8, 1.0)                # as shot: R and B strongly amplified


def camera_raw(cfa: str = "GRBG", h: int = 96, w: int = 128) -> RawMosaic:
    cell = np.array([[RAW[cfa[0]], RAW[cfa[1]]], [RAW[cfa[2]], RAW[cfa[3]]]], np.uint16)
    idx = np.array([["RGB".index(c) for c in cfa[:2]], ["RGB".index(c) for c in cfa[2:]]], np.uint8)
    idx[1][idx[1] == 1] = 3   # LibRaw: the second row's green is G2
    return RawMosaic(path="camera.dng", mosaic=np.tile(cell, (h // 2, w // 2)), cfa=cfa, cfa_indices=idx,
                     black_levels=(BLACK,) * 4, white_level=WHITE, wb_as_shot=WB,
                     color_matrix=np.eye(3, dtype=np.float32))


def value(colour: str, white_balance: str, black_level: str) -> float:
    """What one pixel of `colour` should be under a convention, computed from the stored values."""
    v = float(RAW[colour])
    x = (v - BLACK) / (WHITE - BLACK) if black_level == "subtract" else v / WHITE
    if white_balance == "camera":
        x *= {"R": WB[0], "G": 1.0, "B": WB[2]}[colour]
    return min(x, 1.0)


# Which convention each RAW network was trained with (NETWORKS.md §1, §1b, §2, §3, §6).
EXPECTED = {
    "pynet": ("none", "keep"),
    "pynet_ca": ("none", "keep"),
    "cycleisp_denoise_raw": ("none", "subtract"),
    "cycleisp_raw2rgb": ("none", "subtract"),
    "demosaicnet_bayer": ("camera", "subtract"),
    "sgnet": ("camera", "subtract"),
}


@pytest.mark.parametrize("spec_id", sorted(EXPECTED))
def test_descriptor_states_the_training_convention_with_its_source(spec_id):
    spec = get_spec(spec_id)
    conv = spec.input_convention
    assert (conv.white_balance, conv.black_level) == EXPECTED[spec_id]
    assert "NETWORKS.md §" in conv.source and conv.describe() in spec.notes


@pytest.mark.parametrize("spec", [s for s in all_specs() if s.input_kind is InputKind.BAYER], ids=lambda s: s.id)
def test_prepare_input_follows_each_descriptor(spec):
    raw = camera_raw("GRBG")
    x, cfa = prepare_input(spec, raw)
    conv = spec.input_convention
    assert cfa == "GRBG"
    for (r, c), colour in zip([(0, 0), (0, 1), (1, 0)], "GRB"):
        np.testing.assert_allclose(x[r::2, c::2], value(colour, conv.white_balance, conv.black_level), rtol=1e-6)


class Caught(Exception):
    def __init__(self, args):
        super().__init__("input caught")
        self.inputs = [a.detach().float().numpy() for a in args if isinstance(a, torch.Tensor)]


class Door(nn.Module):
    """Stands in for a network: records what it is given and stops the run there."""

    def forward(self, *args):
        raise Caught(args)


class PassThrough(nn.Module):
    def forward(self, x):
        return x


def network_input_of(spec_id: str) -> np.ndarray:
    spec = get_spec(spec_id)
    raw = camera_raw("GRBG")
    x, cfa = prepare_input(spec, raw)
    options = dict(spec.options)
    if spec.needs_reference:
        options.update(reference_option(spec, Image(np.full((raw.height, raw.width, 3), 0.5, np.float32)), raw))
        options["ccm_net"] = PassThrough()
    with pytest.raises(Caught) as caught:
        spec.infer(Door(), x, cfa=cfa, **options)
    return caught.value.inputs[0][0]   # the first tensor, batch element 0


def test_pynet_gets_the_stored_values_over_1020_in_b_g_r_g_order():
    packed = network_input_of("pynet")
    for channel, colour in enumerate("BGRG"):
        np.testing.assert_allclose(packed[channel], RAW[colour] / 1020.0, rtol=1e-5)


def test_pynet_ca_gets_the_stored_values_over_1023_in_minus_one_to_one():
    packed = network_input_of("pynet_ca")
    for channel, colour in enumerate("BGRG"):
        np.testing.assert_allclose(packed[channel], RAW[colour] / 1023.0 * 2 - 1, rtol=1e-5)


@pytest.mark.parametrize("spec_id", ["cycleisp_denoise_raw", "cycleisp_raw2rgb"])
def test_cycleisp_gets_black_subtracted_unbalanced_rggb(spec_id):
    packed = network_input_of(spec_id)
    for channel, colour in enumerate("RGGB"):
        np.testing.assert_allclose(packed[channel], value(colour, "none", "subtract"), rtol=1e-5)


def test_sgnet_gets_the_white_balanced_rggb_mosaic():
    packed = network_input_of("sgnet")
    for channel, colour in enumerate("RGGB"):
        np.testing.assert_allclose(packed[channel], value(colour, "camera", "subtract"), rtol=1e-5)


def test_demosaicnet_gets_the_white_balanced_mosaic():
    mosaic3 = network_input_of("demosaicnet_bayer")
    for channel, colour in enumerate("RGB"):
        assert mosaic3[channel].max() == pytest.approx(value(colour, "camera", "subtract"), rel=1e-5)


def test_an_unbalanced_output_mosaic_is_balanced_before_it_is_developed():
    raw = camera_raw("GRBG")
    spec = get_spec("cycleisp_denoise_raw")
    unbalanced = raw_input(raw, spec.input_convention)
    np.testing.assert_allclose(to_developed(spec, unbalanced, raw), network_input(raw, "camera"), rtol=1e-6)
    rendered = np.full((raw.height, raw.width, 3), 0.25, np.float32)   # a learned ISP's display RGB
    assert to_developed(get_spec("pynet"), rendered, raw) is rendered


def test_display_referred_mosaics_reach_every_network_as_they_are():
    mosaic = simulate_mosaic(Image(np.linspace(0, 1, 96 * 128 * 3, dtype=np.float32).reshape(96, 128, 3)), "RGGB")
    for spec_id in EXPECTED:
        np.testing.assert_array_equal(prepare_input(get_spec(spec_id), mosaic)[0], mosaic.normalized())


def test_a_convention_refuses_unknown_words():
    with pytest.raises(ValueError, match="white_balance"):
        InputConvention(white_balance="auto")
    with pytest.raises(ValueError, match="black_level"):
        InputConvention(black_level="half")


def test_the_window_prepares_each_convention_once_and_never_mixes_them():
    from isp_viewer.engine.run_requests import prepare_inputs

    raw = camera_raw("GRBG")
    specs = [get_spec(i) for i in ("demosaicnet_bayer", "sgnet", "pynet", "pynet_ca", "cycleisp_denoise_raw")]
    prepared = prepare_inputs(specs, raw, arrays=True)
    for spec in specs:
        np.testing.assert_array_equal(prepared[spec.id][0], prepare_input(spec, raw)[0])
    assert prepared["pynet"][0] is prepared["pynet_ca"][0]              # same convention: prepared once
    assert prepared["pynet"][2] != prepared["demosaicnet_bayer"][2]     # and a different input hash
