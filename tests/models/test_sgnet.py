"""SGNet port: manifest layout, golden fixture (outputs and density map), PAC layer, infer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from isp_viewer.core.errors import ModelError
from isp_viewer.models.golden import crc32_lecun_fill
from isp_viewer.models.loading import load_strict, read_checkpoint
from isp_viewer.models.nets.sgnet import (
    RED_OFFSET,
    SPECS,
    PacConvTranspose2d,
    build_sgnet,
    density_before_norm,
    infer_sgnet,
    pack_rggb,
    sgnet_input,
)
from tests.models.golden_utils import assert_outputs_match, assert_state_dict_matches_manifest, load_fixture


@pytest.fixture(scope="module")
def filled_net():
    """SGNet with crc32-lecun-v1 weights (gain 1), filled from its own key list.

    Equal to the fill of the golden fixture whenever the manifest test passes, and needs no
    ../shared, so the infer tests also run on a fresh clone.
    """
    net = build_sgnet()
    keys = [[k, list(v.shape), str(v.dtype).removeprefix("torch.")] for k, v in net.state_dict().items()]
    load_strict(net, crc32_lecun_fill({"keys": keys}, 1.0), "crc32-lecun-v1")
    return net.eval()


def natural_mosaic(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth-plus-edges HxW test mosaic in [0, 1] (values, not a CFA sampling, matter here)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 0.5 + 0.3 * np.sin(xx / 3.0) * np.cos(yy / 5.0) + 0.15 * (xx > w / 2)
    return np.clip(base + rng.normal(0, 0.03, (h, w)), 0, 1).astype(np.float32)


# --------------------------------------------------------------------------- layout and golden


def test_state_dict_matches_manifest(reference):
    assert_state_dict_matches_manifest(build_sgnet(), reference / "manifests" / "sgnet.json")


def test_golden_fixture_outputs(reference, filled_net):
    meta, arrays = load_fixture(reference, "sgnet")
    assert meta["fill"] == {"rule": "crc32-lecun-v1", "weight_gain": 1.0}
    with torch.no_grad():
        outputs = filled_net(torch.from_numpy(arrays["in_x"]))
    assert len(outputs) == 3
    assert_outputs_match(outputs, meta, arrays, ["sr_raw", "rgb", "green"])
    # green is ~98% exact zeros: its few non-zero pixels must sit where upstream's do.
    green = outputs[2].numpy()
    assert np.array_equal(green > 0, arrays["out_green"] > 0)
    assert (green > 0).sum() > 50


def test_golden_density_map(reference, filled_net):
    meta, arrays = load_fixture(reference, "sgnet")
    with torch.no_grad():
        density = filled_net.density_map(torch.from_numpy(arrays["in_x"]))
    assert_outputs_match([density], meta, arrays, ["density_map"])


def test_density_is_8bit_detail_and_zero_on_flat_input():
    flat = torch.full((1, 5, 12, 16), 0.4)
    assert torch.count_nonzero(density_before_norm(flat)) == 0
    net = build_sgnet()
    # A constant map normalises to exactly 0 (InstanceNorm: 0 / sqrt(eps)).
    assert torch.count_nonzero(net.density_map(flat)) == 0

    step = flat.clone()
    step[:, :4, :, 8:] = 1.0
    raw = density_before_norm(step)
    assert raw.shape == (1, 1, 12, 16)
    assert torch.equal(raw, raw.round()) and raw.min() >= 0 and raw.max() <= 255
    # Detail concentrates at the edge (columns 7/8) and dilation widens it by one pixel.
    profile = raw[0, 0].mean(0)
    assert profile[7] > 0 and profile[8] > 0 and profile[6] > 0 and profile[9] > 0
    assert profile[7:9].min() >= profile[:4].max()
    normed = net.density_map(step)
    assert abs(float(normed.mean())) < 1e-5 and abs(float(normed.std(unbiased=False)) - 1) < 1e-3


# --------------------------------------------------------------------------- PAC layer


def _pac_reference(x, guide, weight, bias):
    """The PAC formula literally, loop over output pixels (tiny sizes only)."""
    b, c, h, w = x.shape
    big = np.zeros((b, c, 2 * h + 4, 2 * w + 4))
    big[:, :, 2:2 * h + 1:2, 2:2 * w + 1:2] = x
    g = np.pad(guide, ((0, 0), (0, 0), (2, 2), (2, 2)))
    out = np.zeros((b, weight.shape[1], 2 * h, 2 * w))
    for m in range(2 * h):
        for n in range(2 * w):
            centre = g[:, :, m + 2, n + 2]
            for i in range(5):
                for j in range(5):
                    aff = np.exp(-0.5 * ((g[:, :, m + i, n + j] - centre) ** 2).sum(1))
                    taps = big[:, :, m + i, n + j] * aff[:, None]
                    out[:, :, m, n] += np.einsum("bc,co->bo", taps, weight[:, :, i, j])
    return out + bias[None, :, None, None]


def test_pac_matches_literal_formula():
    torch.manual_seed(1)
    pac = PacConvTranspose2d(3, 2)
    x = torch.randn(2, 3, 3, 4)
    guide = torch.randn(2, 4, 6, 8) * 0.7
    with torch.no_grad():
        got = pac(x, guide).numpy()
    want = _pac_reference(x.numpy().astype(np.float64), guide.numpy().astype(np.float64),
                          pac.weight.detach().numpy().astype(np.float64), pac.bias.detach().numpy())
    assert got.shape == (2, 2, 6, 8)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_pac_with_flat_guide_is_transposed_conv_with_flipped_kernel():
    torch.manual_seed(2)
    pac = PacConvTranspose2d(4, 3)
    x = torch.randn(1, 4, 5, 6)
    with torch.no_grad():
        got = pac(x, torch.zeros(1, 8, 10, 12))
        flipped = F.conv_transpose2d(x, pac.weight.flip(-1, -2), pac.bias, stride=2, padding=2, output_padding=1)
        unflipped = F.conv_transpose2d(x, pac.weight, pac.bias, stride=2, padding=2, output_padding=1)
    assert torch.allclose(got, flipped, atol=1e-5)
    assert (got - unflipped).abs().max() > 0.1


# --------------------------------------------------------------------------- infer


def test_pack_and_noise_plane_order():
    mosaic = np.arange(16, dtype=np.float32).reshape(4, 4) / 16
    packed = pack_rggb(mosaic)
    assert packed.shape == (4, 2, 2)
    assert packed[:, 0, 0].tolist() == pytest.approx([0 / 16, 1 / 16, 4 / 16, 5 / 16])  # R, G(0,1), G(1,0), B
    net_input, origin = sgnet_input(mosaic, "RGGB", sigma=15.0)
    assert net_input.shape == (5, 2, 2) and origin == (0, 0)
    assert np.all(net_input[4] == np.float32(15.0 / 255.0))
    # BGGR: one reflected row and column on top/left put a red sample at (0, 0).
    bggr_input, origin = sgnet_input(mosaic, "BGGR", sigma=0.0)
    assert origin == (1, 1) and bggr_input.shape == (5, 3, 3)
    assert bggr_input[0, 0, 0] == mosaic[1, 1] and bggr_input[3, 1, 1] == mosaic[2, 2]


@pytest.mark.parametrize("cfa", ["RGGB", "BGGR", "GRBG", "GBRG"])
def test_infer_shape_and_range_on_odd_sizes(filled_net, cfa):
    x = natural_mosaic(13, 11)
    out = infer_sgnet(filled_net, x, cfa=cfa, sigma=5.0)
    assert out.shape == (13, 11, 3) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert out.std() > 1e-3


@pytest.mark.parametrize("cfa", ["BGGR", "GRBG", "GBRG"])
def test_cfa_phase_equals_native_rggb_result(filled_net, cfa):
    """A mosaic whose RGGB frame is known reproduces the RGGB run exactly on its own pixels."""
    top, left = RED_OFFSET[cfa]
    phased = natural_mosaic(14 + top, 12 + left, seed=3)
    rggb_frame = np.pad(phased, ((top, 0), (left, 0)), mode="reflect")  # what infer builds
    native = infer_sgnet(filled_net, rggb_frame, cfa="RGGB", sigma=8.0)
    shifted = infer_sgnet(filled_net, phased, cfa=cfa, sigma=8.0)
    np.testing.assert_allclose(shifted, native[top:, left:], atol=1e-6)
    if cfa == "BGGR":  # ...and the phase matters: calling the same pixels RGGB gives another picture
        wrong = infer_sgnet(filled_net, phased, cfa="RGGB", sigma=8.0)
        assert np.abs(wrong - shifted).max() > 1e-2


def test_noise_level_reaches_the_output(filled_net):
    x = natural_mosaic(12, 12, seed=5)
    quiet = infer_sgnet(filled_net, x, cfa="RGGB", sigma=0.0)
    noisy = infer_sgnet(filled_net, x, cfa="RGGB", sigma=30.0)
    assert np.abs(quiet - noisy).max() > 1e-3


def test_gamma_option_encodes_the_mosaic(filled_net):
    x = natural_mosaic(12, 10, seed=6)
    encoded = infer_sgnet(filled_net, x, cfa="GRBG", gamma=2.2)
    np.testing.assert_allclose(encoded, infer_sgnet(filled_net, x ** np.float32(1 / 2.2), cfa="GRBG"), atol=1e-6)
    assert np.abs(encoded - infer_sgnet(filled_net, x, cfa="GRBG")).max() > 1e-3


def test_own_tenet_style_checkpoint_loads_strictly(tmp_path, filled_net):
    """Users bring their own weights: TENet saves {'state_dict', 'best_psnr', 'iter'}."""
    path = tmp_path / "sgnet.pth"
    torch.save({"state_dict": filled_net.state_dict(), "best_psnr": 38.5, "iter": 1000}, path)
    net = load_strict(build_sgnet(), read_checkpoint(path), path.name)
    assert torch.equal(net.pac.weight, filled_net.pac.weight)
    assert torch.equal(net.model_dm3[0][0].bias, filled_net.model_dm3[0][0].bias)  # unused, still loaded


def test_infer_matches_forward_rgb_clipped(filled_net):
    x = natural_mosaic(12, 16, seed=7)
    net_input, _ = sgnet_input(x, "RGGB", sigma=3.0)
    with torch.no_grad():
        rgb = filled_net(torch.from_numpy(net_input)[None])[1][0]
    want = rgb.clamp(0, 1).permute(1, 2, 0).numpy()
    np.testing.assert_allclose(infer_sgnet(filled_net, x, cfa="rggb", sigma=3.0), want, atol=1e-6)


@pytest.mark.parametrize(
    ("x", "cfa", "options", "message"),
    [
        (np.zeros((16, 16, 3), np.float32), "RGGB", {}, "Bayer mosaic"),
        (np.zeros((16, 16), np.float32), None, {}, "CFA pattern"),
        (np.zeros((18, 18), np.float32), "GGRBGGBGGRGGGGRBGGBGGRGGGGRBGGBGGRGG", {}, "X-Trans"),
        (np.zeros((16, 16), np.float32), "RGBG", {}, "does not support"),
        (np.zeros((6, 16), np.float32), "RGGB", {}, "at least 8x8"),
        (np.zeros((16, 16), np.float32), "RGGB", {"sigma": -1.0}, "sigma"),
        (np.zeros((16, 16), np.float32), "RGGB", {"gamma": 0.0}, "gamma"),
    ],
)
def test_unusable_input_raises_model_error(x, cfa, options, message):
    with pytest.raises(ModelError, match=message):
        infer_sgnet(build_sgnet(), x, cfa=cfa, **options)


def test_tile_overlap_holds_with_full_frame_density_but_tiles_are_not_exact(filled_net):
    """tile_overlap Bayer pixels of context reproduce the full frame within 1e-3 once the
    density map is the full frame's; a tile normalising its own density map (what tiling does)
    does not, which is why the spec says tiling_safe=False. One-sided: the tile shares the
    image's left border and top/bottom, and is cut on the right only."""
    context = SPECS[0].tile_overlap // 2  # packed pixels
    core = 4
    x = natural_mosaic(8, 2 * (core + context) + 16, seed=11)
    x[:, x.shape[1] // 2:] *= 0.3  # a darker, flatter right part shifts the full-frame statistics
    net_input = torch.from_numpy(sgnet_input(x, "RGGB", sigma=4.0)[0])[None]
    with torch.no_grad():
        density = filled_net.density_map(net_input)
        full = filled_net.forward_with_density(net_input, density)[1][..., :2 * core]

        def tile(width, own_density=False):
            crop = net_input[..., :width]
            out = filled_net(crop) if own_density else filled_net.forward_with_density(crop, density[..., :width])
            return out[1][..., :2 * core]

        assert (tile(core + context) - full).abs().max() < 1e-3
        assert (tile(core + 2) - full).abs().max() > 1e-3  # too little context: the check can fail
        assert (tile(core + context, own_density=True) - full).abs().max() > 1e-3


def test_spec_facts():
    (spec,) = SPECS
    assert spec.id == "sgnet" and spec.manifest == "sgnet.json"
    assert spec.input_kind.name == "BAYER" and spec.output_scale == 1 and spec.tile_align == 2
    assert not spec.tiling_safe
    assert "no public weights — load your own" in spec.notes
    assert all(w.sha256 is None for w in spec.weights)
    assert spec.non_commercial   # conservative: its PAC layer is CC BY-NC-SA 4.0 (precision: test_precision.py)
    net = spec.build()
    assert not net.training and next(net.parameters()).dtype == torch.float32
