"""CycleISP port: manifests, golden fixtures, checkpoint loading and the infer functions' conventions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from isp_viewer.core.errors import ModelError
from isp_viewer.models.golden import crc32_lecun_fill, load_manifest
from isp_viewer.models.loading import load_strict, read_checkpoint
from isp_viewer.models.nets import cycleisp
from isp_viewer.models.spec import InputKind
from tests.models.golden_utils import (
    assert_outputs_match,
    assert_state_dict_matches_manifest,
    fill_for_fixture,
    load_fixture,
    run_fixture,
)

BUILDS = {
    "cycleisp_denoise_raw": cycleisp.build_denoise_raw,
    "cycleisp_denoise_rgb": cycleisp.build_denoise_rgb,
    "cycleisp_rgb2raw": cycleisp.build_rgb2raw,
    "cycleisp_ccm": cycleisp.build_ccm,
    "cycleisp_raw2rgb": cycleisp.build_raw2rgb,
}
PATTERNS = ("RGGB", "GRBG", "GBRG", "BGGR")


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """These tensors are tiny: OpenMP threads only add spin-wait overhead (5x on a busy 2-core box)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def filled(reference: Path):
    """filled(name, gain) -> that net with crc32-lecun weights, built once per module."""
    cache: dict[tuple[str, float], nn.Module] = {}

    def get(name: str, gain: float = 0.7) -> nn.Module:
        if (name, gain) not in cache:
            manifest = load_manifest(reference / "manifests" / f"{name}.json")
            cache[name, gain] = load_strict(BUILDS[name](), crc32_lecun_fill(manifest, gain), name)
        return cache[name, gain]

    return get


@pytest.fixture(scope="module")
def rgb_denoiser(filled) -> nn.Module:
    return filled("cycleisp_denoise_rgb")


def _mosaic(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.05, 0.95, (h, w)).astype(np.float32)


def _rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 1.0, (h, w, 3)).astype(np.float32)


def _cfa_colour_map(h: int, w: int, cfa: str) -> np.ndarray:
    """HxW array of 'R'/'G'/'B' letters of a 2x2 pattern tiled over the frame."""
    cell = np.array(list(cfa)).reshape(2, 2)
    return np.tile(cell, (h // 2 + 1, w // 2 + 1))[:h, :w]


# --- architecture ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(BUILDS))
def test_state_dict_matches_manifest(name, reference: Path):
    assert_state_dict_matches_manifest(BUILDS[name](), reference / "manifests" / f"{name}.json")


@pytest.mark.parametrize("name", list(BUILDS))
def test_one_prelu_instance_is_reused(name):
    net = BUILDS[name]()
    prelus = {id(m) for m in net.modules() if isinstance(m, nn.PReLU)}
    assert len(prelus) == 1
    first_block = net.body[0].body[0]
    assert net.body[-1] is first_block.body[1]


def test_ccm_default_blur_is_normalised_gaussian_sigma_12():
    weight = cycleisp.build_ccm().blur.weight
    assert tuple(weight.shape) == (3, 1, 21, 21) and not weight.requires_grad
    k = weight[0, 0].double()
    assert torch.allclose(weight.sum(dim=(1, 2, 3)), torch.ones(3), atol=1e-6)
    # A Gaussian: the ratio of neighbouring taps along the centre row is exp(-(2d+1)/(2 sigma^2)).
    assert float(k[10, 11] / k[10, 10]) == pytest.approx(np.exp(-1 / (2 * 144)), rel=1e-5)
    assert float(k[10, 20] / k[10, 10]) == pytest.approx(np.exp(-100 / (2 * 144)), rel=1e-5)


def test_rgb2raw_mosaic_samples_rggb():
    rgb = torch.tensor([0.1, 0.5, 0.9]).view(1, 3, 1, 1).expand(1, 3, 4, 6).clone()
    rgb[:, :, 1, 0] = 0.3  # the (1,0) green of the first cell
    packed = cycleisp.mosaic_rggb(rgb)
    assert packed.shape == (1, 4, 2, 3)
    assert torch.allclose(packed[0, :, 1, 1], torch.tensor([0.1, 0.5, 0.5, 0.9]))
    assert float(packed[0, 2, 0, 0]) == pytest.approx(0.3)


# --- golden fixtures ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(BUILDS))
def test_golden_fixture(name, reference: Path):
    meta, arrays = load_fixture(reference, name)
    net = fill_for_fixture(BUILDS[name](), reference, meta)
    assert_outputs_match(run_fixture(net, meta, arrays), meta, arrays)


def test_ccm_golden_output_feeds_raw2rgb_golden(reference: Path):
    """The CCM fixture's output is the Raw2Rgb fixture's second input (the chain is consistent)."""
    _, ccm = load_fixture(reference, "cycleisp_ccm")
    _, raw2rgb = load_fixture(reference, "cycleisp_raw2rgb")
    np.testing.assert_allclose(ccm["out_ccm_feat"], raw2rgb["in_ccm_feat"], atol=1e-6)


# --- checkpoint loading ---------------------------------------------------------------------------

def test_upstream_style_checkpoint_loads_strictly(tmp_path: Path, reference: Path):
    """{'state_dict': {'module.' + key: ...}} with every alias of the shared PReLU loads strictly."""
    manifest = load_manifest(reference / "manifests" / "cycleisp_ccm.json")
    sd = crc32_lecun_fill(manifest, 1.0)
    path = tmp_path / "ccm_joint.pth"
    torch.save({"epoch": 1, "state_dict": {f"module.{k}": v for k, v in sd.items()}}, path)
    net = load_strict(cycleisp.build_ccm(), read_checkpoint(path), path.name)
    assert torch.equal(net.blur.weight, sd["blur.weight"])  # the loaded blur, not the default one
    assert torch.equal(net.body[3].weight, sd["body.3.weight"])


def test_checkpoint_missing_an_alias_key_is_refused(reference: Path):
    from isp_viewer.core.errors import WeightsError

    manifest = load_manifest(reference / "manifests" / "cycleisp_ccm.json")
    sd = crc32_lecun_fill(manifest, 1.0)
    del sd["body.3.weight"]  # one alias of the shared PReLU
    with pytest.raises(WeightsError, match=r"body\.3\.weight"):
        load_strict(cycleisp.build_ccm(), sd, "ccm_joint.pth")


@pytest.mark.parametrize("fname,name", [
    ("dnd_raw.pth", "cycleisp_denoise_raw"), ("sidd_raw.pth", "cycleisp_denoise_raw"),
    ("dnd_rgb.pth", "cycleisp_denoise_rgb"), ("sidd_rgb.pth", "cycleisp_denoise_rgb"),
    ("rgb2raw.pth", "cycleisp_rgb2raw"), ("rgb2raw_joint.pth", "cycleisp_rgb2raw"),
    ("ccm_joint.pth", "cycleisp_ccm"), ("raw2rgb_joint.pth", "cycleisp_raw2rgb"),
])
def test_official_weights_load_strictly(fname, name, shared: Path):
    found = sorted((shared / "weights").rglob(fname))
    if not found:
        pytest.skip(f"{fname} is not in ../shared/weights (distributed via Google Drive only)")
    load_strict(BUILDS[name](), read_checkpoint(found[0]), fname)


# --- mosaic helpers -------------------------------------------------------------------------------

def test_pack_unpack_roundtrip_and_order():
    m = np.arange(24, dtype=np.float32).reshape(4, 6)
    packed = cycleisp.pack_rggb(m)
    assert packed.shape == (4, 2, 3)
    assert packed[:, 0, 0].tolist() == [0, 1, 6, 7]  # (0,0), (0,1), (1,0), (1,1)
    np.testing.assert_array_equal(cycleisp.unpack_rggb(packed), m)


# --- RAW denoiser ---------------------------------------------------------------------------------

class _ReturnVariance(nn.Module):
    """Stands in for the RAW denoiser: returns the variance map it was given."""

    def forward(self, noisy, variance):
        return variance


class _ReturnNoisy(nn.Module):
    def forward(self, noisy, variance):
        return noisy


@pytest.mark.parametrize("cfa", PATTERNS)
@pytest.mark.parametrize("shape", [(8, 10), (7, 9)])
def test_denoise_raw_puts_result_back_on_input_grid(cfa, shape):
    x = _mosaic(*shape)
    out = cycleisp.infer_denoise_raw(_ReturnNoisy(), x, cfa=cfa, noise=(0.01, 0.001))
    assert out.shape == shape and out.dtype == np.float32
    np.testing.assert_array_equal(out, x)


@pytest.mark.parametrize("cfa", PATTERNS)
def test_denoise_raw_variance_uses_each_pixels_colour(cfa):
    """variance = shot*x + read per pixel, with the R/G/B pair of that pixel's CFA colour."""
    x = _mosaic(6, 9, seed=1) * 0.5
    pairs = {"R": (0.01, 0.001), "G": (0.02, 0.002), "B": (0.04, 0.004)}
    out = cycleisp.infer_denoise_raw(_ReturnVariance(), x, cfa=cfa, noise=[pairs["R"], pairs["G"], pairs["B"]])
    colours = _cfa_colour_map(*x.shape, cfa)
    shot = np.vectorize(lambda c: pairs[c][0])(colours)
    read = np.vectorize(lambda c: pairs[c][1])(colours)
    np.testing.assert_allclose(out, shot * x + read, rtol=1e-6, atol=1e-7)


def test_denoise_raw_is_flip_equivariant_across_phases(filled):
    """A GRBG mosaic that is the mirror of an RGGB one gives the mirrored result (the flip trick)."""
    net = filled("cycleisp_denoise_raw")
    x = _mosaic(12, 16, seed=2)
    native = cycleisp.infer_denoise_raw(net, x, cfa="RGGB", noise=(0.01, 0.0005))
    mirrored = cycleisp.infer_denoise_raw(net, x[:, ::-1], cfa="GRBG", noise=(0.01, 0.0005))
    np.testing.assert_allclose(mirrored[:, ::-1], native, atol=1e-6)
    assert native.min() >= 0.0 and native.max() <= 1.0
    # A real network was run: the output is not the input.
    assert np.abs(native - x).max() > 1e-2


def test_denoise_raw_residual_and_clamp_match_the_module(filled):
    net = filled("cycleisp_denoise_raw")
    x = _mosaic(10, 12, seed=3)
    out = cycleisp.infer_denoise_raw(net, x, cfa="RGGB", noise=(0.01, 0.0005))
    packed = torch.from_numpy(cycleisp.pack_rggb(x))[None]
    with torch.no_grad():
        direct = net(packed, 0.01 * packed + 0.0005).clamp(0, 1)[0].numpy()
    np.testing.assert_allclose(out, cycleisp.unpack_rggb(direct), atol=1e-6)


def test_noise_estimate_recovers_known_levels():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:192, 0:192] / 192.0
    clean = 0.1 + 0.7 * (0.5 + 0.5 * np.sin(3 * xx + 2 * yy))
    noisy = clean + rng.normal(size=clean.shape) * np.sqrt(0.01 * clean + 0.0005)
    shot, read = cycleisp.estimate_noise_levels(noisy.astype(np.float32))
    assert shot == pytest.approx(0.01, rel=0.15)
    assert read == pytest.approx(0.0005, rel=0.6)


def test_denoise_raw_default_noise_is_estimated():
    rng = np.random.default_rng(4)
    x = np.clip(0.4 + rng.normal(scale=0.05, size=(64, 64)), 0, 1).astype(np.float32)
    out = cycleisp.infer_denoise_raw(_ReturnVariance(), x, cfa="RGGB")
    # Pure read noise of sigma 0.05 (variance 0.0025) on a flat frame.
    assert float(np.median(out)) == pytest.approx(0.0025, rel=0.25)


@pytest.mark.parametrize("bad,match", [
    ({"x": _rgb(8, 8), "cfa": "RGGB"}, "mosaic"),
    ({"x": _mosaic(8, 8), "cfa": None}, "CFA"),
    ({"x": _mosaic(8, 8), "cfa": "GRBGBGGRBGBGGRGBGRBGGRBGBGGRBGBGGRGB"}, "X-Trans"),
    ({"x": _mosaic(8, 8), "cfa": "RGBG"}, "Bayer"),
    ({"x": _mosaic(1, 8), "cfa": "RGGB"}, "at least"),
    ({"x": _mosaic(8, 8), "cfa": "RGGB", "noise": (0.1, 0.2, 0.3)}, "noise"),
    ({"x": _mosaic(8, 8), "cfa": "RGGB", "noise": (-0.1, 0.0)}, "non-negative"),
])
def test_denoise_raw_rejects_unusable_input(bad, match):
    with pytest.raises(ModelError, match=match):
        cycleisp.infer_denoise_raw(_ReturnNoisy(), **bad)


# --- sRGB denoiser --------------------------------------------------------------------------------

def test_denoise_rgb_matches_module_and_clamps(rgb_denoiser):
    x = _rgb(9, 11, seed=5)
    out = cycleisp.infer_denoise_rgb(rgb_denoiser, x)
    with torch.no_grad():
        direct = rgb_denoiser(torch.from_numpy(x.transpose(2, 0, 1))[None])[0].numpy().transpose(1, 2, 0)
    assert out.shape == x.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, np.clip(direct, 0, 1), atol=1e-6)
    assert (direct < 0).any() or (direct > 1).any()  # so the clamp was exercised


def test_infer_accepts_read_only_arrays(rgb_denoiser):
    """Image data is read-only; torch must not warn (warnings are errors) or write into it."""
    rgb = _rgb(1, 1, seed=11)
    rgb.setflags(write=False)
    assert cycleisp.infer_denoise_rgb(rgb_denoiser, rgb).shape == (1, 1, 3)
    mosaic = _mosaic(4, 4, seed=11)
    mosaic.setflags(write=False)
    out = cycleisp.infer_denoise_raw(_ReturnNoisy(), mosaic, cfa="BGGR", noise=(0.01, 0.001))
    np.testing.assert_array_equal(out, mosaic)


def test_denoise_rgb_rejects_a_mosaic():
    with pytest.raises(ModelError, match="sRGB image"):
        cycleisp.infer_denoise_rgb(nn.Identity(), _mosaic(8, 8))


def test_denoisers_are_not_tile_safe(rgb_denoiser):
    """Channel attention pools the whole frame: cropping 4 px off each side changes the centre by > 1e-3."""
    x = _rgb(24, 24, seed=6)
    full = cycleisp.infer_denoise_rgb(rgb_denoiser, x)
    tile = cycleisp.infer_denoise_rgb(rgb_denoiser, x[4:20, 4:20])
    assert np.abs(tile[6:10, 6:10] - full[10:14, 10:14]).max() > 1e-3
    assert not any(spec.tiling_safe for spec in cycleisp.SPECS)


# --- RGB → RAW ------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(8, 10), (9, 11)])
def test_rgb2raw_returns_rggb_mosaic_on_input_grid(shape, filled):
    net = filled("cycleisp_rgb2raw")
    x = _rgb(*shape, seed=7)
    out = cycleisp.infer_rgb2raw(net, x, preblur=False)
    assert out.shape == shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    if shape[0] % 2 == 0 and shape[1] % 2 == 0:
        with torch.no_grad():
            packed = net(torch.from_numpy(x.transpose(2, 0, 1))[None]).clamp(0, 1)[0].numpy()
        np.testing.assert_allclose(out, cycleisp.unpack_rggb(packed), atol=1e-6)


def test_rgb2raw_preblur_smooths_input_first():
    """With a pass-through 'network' that only samples the mosaic, preblur flattens a checkerboard."""

    class SampleOnly(nn.Module):
        def forward(self, rgb):
            return cycleisp.mosaic_rggb(rgb)

    checker = ((np.indices((16, 16)).sum(0) % 2) * 1.0).astype(np.float32)
    x = np.repeat(checker[..., None], 3, axis=2)
    plain = cycleisp.infer_rgb2raw(SampleOnly(), x, preblur=False)
    smooth = cycleisp.infer_rgb2raw(SampleOnly(), x, preblur=True)
    np.testing.assert_array_equal(plain, checker)
    assert np.abs(smooth[4:-4, 4:-4] - 0.5).max() < 0.1


def test_rgb2raw_rejects_a_mosaic():
    with pytest.raises(ModelError, match="RGB image"):
        cycleisp.infer_rgb2raw(nn.Identity(), _mosaic(8, 8))


# --- RAW → RGB ------------------------------------------------------------------------------------

class _ReferenceAsFeatures(nn.Module):
    """Stands in for the CCM: passes the reference through at full resolution."""

    def forward(self, rgb):
        return rgb


class _ReturnFeatures(nn.Module):
    """Stands in for Raw2Rgb: returns the colour features, so the output is the (flipped-back) reference."""

    def forward(self, raw, ccm_feat):
        assert raw.shape[-2:] == (ccm_feat.shape[-2] // 2, ccm_feat.shape[-1] // 2)
        return ccm_feat


@pytest.mark.parametrize("cfa", PATTERNS)
@pytest.mark.parametrize("shape", [(12, 14), (13, 15)])
def test_raw2rgb_keeps_reference_aligned_with_mosaic(cfa, shape):
    ref = _rgb(*shape, seed=8)
    out = cycleisp.infer_raw2rgb(
        _ReturnFeatures(), _ReferenceAsFeatures(), _mosaic(*shape), cfa=cfa, reference_rgb=ref, preblur=False
    )
    assert out.shape == (*shape, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out, ref)


def test_raw2rgb_runs_the_real_pair(filled):
    raw_net, ccm_net = filled("cycleisp_raw2rgb"), filled("cycleisp_ccm", gain=1.0)
    x, ref = _mosaic(16, 16, seed=9), _rgb(16, 16, seed=9)
    out = cycleisp.infer_raw2rgb(raw_net, ccm_net, x, cfa="RGGB", reference_rgb=ref, preblur=False)
    with torch.no_grad():
        feat = ccm_net(torch.from_numpy(ref.transpose(2, 0, 1))[None])
        direct = raw_net(torch.from_numpy(cycleisp.pack_rggb(x))[None], feat).clamp(0, 1)[0].numpy()
    np.testing.assert_allclose(out, direct.transpose(1, 2, 0), atol=1e-6)


def test_raw2rgb_without_reference_says_why():
    msg = "CycleISP RAW→RGB needs a reference RGB image of the same scene (its colour branch)"
    with pytest.raises(ModelError) as err:
        cycleisp.infer_raw2rgb(_ReturnFeatures(), _ReferenceAsFeatures(), _mosaic(16, 16), cfa="RGGB")
    assert str(err.value) == msg
    spec = next(s for s in cycleisp.SPECS if s.id == "cycleisp_raw2rgb")
    with pytest.raises(ModelError, match="reference RGB"):
        spec.infer(_ReturnFeatures(), _mosaic(16, 16), cfa="RGGB")
    with pytest.raises(ModelError, match=r"ccm_joint\.pth"):
        spec.infer(_ReturnFeatures(), _mosaic(16, 16), cfa="RGGB", reference_rgb=_rgb(16, 16))


@pytest.mark.parametrize("x,ref,match", [
    (_mosaic(16, 16), _rgb(16, 18), "must match"),
    (_mosaic(10, 10), _rgb(10, 10), "at least 12"),
    (_rgb(16, 16), _rgb(16, 16), "mosaic"),
    (_mosaic(16, 16), _mosaic(16, 16), "reference RGB"),
])
def test_raw2rgb_rejects_unusable_input(x, ref, match):
    with pytest.raises(ModelError, match=match):
        cycleisp.infer_raw2rgb(_ReturnFeatures(), _ReferenceAsFeatures(), x, cfa="RGGB", reference_rgb=ref)


def test_raw2rgb_spec_forwards_options():
    spec = next(s for s in cycleisp.SPECS if s.id == "cycleisp_raw2rgb")
    ref = _rgb(12, 12, seed=10)
    out = spec.infer(_ReturnFeatures(), _mosaic(12, 12), cfa="GBRG", ccm_net=_ReferenceAsFeatures(),
                     reference_rgb=ref, preblur=False)
    np.testing.assert_array_equal(out, ref)


# --- descriptors ----------------------------------------------------------------------------------

def test_specs_describe_the_variants(reference: Path):
    by_id = {s.id: s for s in cycleisp.SPECS}
    assert set(by_id) == {"cycleisp_denoise_raw", "cycleisp_denoise_rgb", "cycleisp_rgb2raw", "cycleisp_raw2rgb"}
    for spec in by_id.values():
        assert (reference / "manifests" / spec.manifest).is_file()
        assert spec.non_commercial and spec.output_scale == 1
        # fp16/bf16 flags are measured in tests/models/test_precision.py
    assert by_id["cycleisp_denoise_raw"].input_kind is InputKind.BAYER
    assert by_id["cycleisp_denoise_rgb"].input_kind is InputKind.SRGB
    assert by_id["cycleisp_denoise_rgb"].tile_align == 1
    names = {n for s in cycleisp.SPECS for w in (*s.weights, *(c.weights for c in s.companions)) for n in w.names}
    assert names == {"dnd_raw.pth", "sidd_raw.pth", "dnd_rgb.pth", "sidd_rgb.pth", "rgb2raw.pth",
                     "rgb2raw_joint.pth", "raw2rgb_joint.pth", "ccm_joint.pth"}


def test_preblur_kernel_is_upstream_5x5_sigma_1():
    k = cycleisp.gaussian_kernel(5, 1.0).double()
    assert float(k.sum()) == pytest.approx(1.0, abs=1e-6)
    assert float(k[2, 3] / k[2, 2]) == pytest.approx(np.exp(-0.5), rel=1e-5)
    x = torch.rand(1, 3, 8, 8)
    assert cycleisp._preblur(x).shape == x.shape
    assert F.mse_loss(cycleisp._preblur(x), x) > 0
