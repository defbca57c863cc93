"""SRGAN / SRResNet ports: manifests, golden fixtures, real weights, infer contract, Set5 quality."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from isp_viewer.core.errors import ModelError
from isp_viewer.models.golden import crc32_lecun_fill, load_manifest
from isp_viewer.models.loading import load_strict, read_checkpoint, sha256_of_file
from isp_viewer.models.nets import srgan
from tests.models.golden_utils import (
    assert_outputs_match,
    assert_state_dict_matches_manifest,
    fill_for_fixture,
    load_fixture,
    run_fixture,
)

BUILDERS = {
    "srgan_lornatang_x4": srgan.build_srgan_lornatang_x4,
    "srgan_leftthomas_x2": srgan.build_srgan_leftthomas_x2,
    "srgan_leftthomas_x4": srgan.build_srgan_leftthomas_x4,
    "srgan_leftthomas_x8": srgan.build_srgan_leftthomas_x8,
}
FIXTURES = {
    "srgan_lornatang_x4": "srgan_lornatang_x4",
    "srgan_leftthomas_x4": "srgan_leftthomas_x4",
    "srgan_leftthomas_x4__real_netG_epoch_4_100": "srgan_leftthomas_x4",
}
SPECS = {spec.id: spec for spec in srgan.SPECS}
GAIN = {"srgan_lornatang_x4": 0.6}  # the fixtures' weight_gain (GOLDEN.md)


def crc32_net(model_id: str, reference) -> torch.nn.Module:
    net = BUILDERS[model_id]()
    manifest = load_manifest(reference / "manifests" / f"{model_id}.json")
    return load_strict(net, crc32_lecun_fill(manifest, GAIN.get(model_id, 1.0)), model_id)


def leftthomas_real(shared, scale: int) -> torch.nn.Module:
    path = shared / "weights" / "srgan_leftthomas" / f"netG_epoch_{scale}_100.pth"
    return load_strict(BUILDERS[f"srgan_leftthomas_x{scale}"](), read_checkpoint(path), path.name)


# --- structure ---------------------------------------------------------------------------------


@pytest.mark.parametrize("model_id", sorted(BUILDERS))
def test_state_dict_matches_manifest(model_id, reference):
    assert_state_dict_matches_manifest(BUILDERS[model_id](), reference / "manifests" / f"{model_id}.json")


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_golden_fixture(fixture, reference, shared):
    meta, arrays = load_fixture(reference, fixture)
    net = fill_for_fixture(BUILDERS[FIXTURES[fixture]](), reference, meta, shared)
    assert_outputs_match(run_fixture(net, meta, arrays), meta, arrays)


@pytest.mark.parametrize("scale", srgan.LEFTTHOMAS_SCALES)
def test_leftthomas_real_weights_load_strictly(scale, shared):
    path = shared / "weights" / "srgan_leftthomas" / f"netG_epoch_{scale}_100.pth"
    spec = SPECS[f"srgan_leftthomas_x{scale}"]
    assert spec.weights[0].names == (path.name,)
    assert sha256_of_file(path) == spec.weights[0].sha256
    net = leftthomas_real(shared, scale)
    # The file's tensors are really in the module (strict load, nothing left at init values).
    sd = read_checkpoint(path)
    assert torch.equal(net.state_dict()["block8.0.conv.weight"], sd["block8.0.conv.weight"])
    assert torch.equal(net.state_dict()["block2.bn1.running_var"], sd["block2.bn1.running_var"])
    out = srgan.infer_srgan(net, np.full((6, 5, 3), 0.5, np.float32))
    assert out.shape == (6 * scale, 5 * scale, 3)


def test_lornatang_does_not_fit_leftthomas_weights(shared):
    from isp_viewer.core.errors import WeightsError

    sd = read_checkpoint(shared / "weights" / "srgan_leftthomas" / "netG_epoch_4_100.pth")
    with pytest.raises(WeightsError, match="does not fit"):
        load_strict(srgan.build_srgan_lornatang_x4(), sd, "netG_epoch_4_100.pth")


# --- infer contract ----------------------------------------------------------------------------


def test_infer_reproduces_real_fixture_in_hwc(reference, shared):
    """infer's NCHW↔HWC handling and clipping around the same forward as the fixture."""
    meta, arrays = load_fixture(reference, "srgan_leftthomas_x4__real_netG_epoch_4_100")
    net = fill_for_fixture(srgan.build_srgan_leftthomas_x4(), reference, meta, shared)
    x = arrays["in_x"][0].transpose(1, 2, 0)
    out = srgan.infer_srgan(net, x)
    want = np.clip(arrays["out_sr"][0].transpose(1, 2, 0), 0, 1)
    assert out.dtype == np.float32 and out.shape == want.shape
    assert np.max(np.abs(out - want)) < 1e-4


@pytest.mark.parametrize("model_id", sorted(BUILDERS))
def test_infer_odd_sizes_scale_and_range(model_id, reference):
    net = crc32_net(model_id, reference)
    rng = np.random.default_rng(1)
    x = rng.random((7, 5, 3), dtype=np.float32)
    out = srgan.infer_srgan(net, x)
    s = SPECS[model_id].output_scale
    assert net.scale == s
    assert out.shape == (7 * s, 5 * s, 3) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert out.std() > 1e-3  # the input reaches the output


def test_infer_float64_still_returns_float32(reference):
    net = crc32_net("srgan_leftthomas_x2", reference)
    x = np.random.default_rng(2).random((6, 6, 3), dtype=np.float32)
    out64 = srgan.infer_srgan(net, x, dtype=torch.float64)
    out32 = srgan.infer_srgan(net, x, dtype=torch.float32)
    assert out64.dtype == np.float32
    assert np.max(np.abs(out64 - out32)) < 1e-4


@pytest.mark.parametrize(
    "x, cfa, message",
    [
        (np.zeros((16, 16), np.float32), "RGGB", "RAW mosaic"),
        (np.zeros((16, 16, 3), np.float32), "RGGB", "RAW mosaic"),
        (np.zeros((16, 16, 4), np.float32), None, "HxWx3"),
        (np.zeros((0, 16, 3), np.float32), None, "too small"),
    ],
)
def test_infer_rejects_unusable_input(x, cfa, message):
    net = srgan.build_srgan_leftthomas_x2()
    with pytest.raises(ModelError, match=message):
        srgan.infer_srgan(net, x, cfa=cfa)


def _tile_error(net, x: np.ndarray, keep: tuple[int, int], overlap: int, scale: int) -> float:
    """Max |tiled - full| over the kept square [keep[0], keep[1])² of a tile with `overlap` context."""
    a, b = keep
    full = srgan.infer_srgan(net, x)[a * scale:b * scale, a * scale:b * scale]
    tile = srgan.infer_srgan(net, x[a - overlap:b + overlap, a - overlap:b + overlap])
    inner = tile[overlap * scale:(overlap + b - a) * scale, overlap * scale:(overlap + b - a) * scale]
    return float(np.max(np.abs(inner - full)))


def test_tile_overlap_reproduces_full_frame(reference):
    """With spec.tile_overlap px of context a tile equals the full frame; with much less it does not."""
    net = crc32_net("srgan_leftthomas_x4", reference)
    overlap = SPECS["srgan_leftthomas_x4"].tile_overlap
    x = np.random.default_rng(3).random((2 * overlap + 12, 2 * overlap + 12, 3), dtype=np.float32)
    keep = (overlap + 2, overlap + 10)
    assert _tile_error(net, x, keep, overlap, 4) < 1e-5
    assert _tile_error(net, x, keep, 12, 4) > 1e-3  # measured 0.02


@pytest.mark.parametrize("model_id, last", [("srgan_lornatang_x4", "conv3"), ("srgan_leftthomas_x2", "block8")])
@pytest.mark.parametrize("axis", [0, 1])
def test_tile_overlap_is_the_receptive_field(model_id, last, axis, reference):
    """The input pixels reaching a central output block lie exactly within ±tile_overlap.

    Measured along one axis of a narrow strip (cheap), on the last conv's output (before
    Lornatang's clamp, which would zero gradients).
    """
    net = crc32_net(model_id, reference)
    spec = SPECS[model_id]
    r, s = spec.tile_overlap, spec.output_scale
    shape = [1, 3, 9, 9]
    shape[2 + axis] = 2 * r + 9
    captured = {}
    getattr(net, last).register_forward_hook(lambda mod, inp, out: captured.setdefault("y", out))
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(4), requires_grad=True)
    net(x)
    c = [4, 4]
    c[axis] = r + 4  # central input pixel; its output block is [c*s, (c+1)*s)
    block = captured["y"][0, :, c[0] * s:(c[0] + 1) * s, c[1] * s:(c[1] + 1) * s]
    (grad,) = torch.autograd.grad(block.sum(), x)
    reached = (grad[0].abs().sum(0) > 0).nonzero()[:, axis]
    assert reached.min().item() == c[axis] - r and reached.max().item() == c[axis] + r


def test_specs_are_consistent(reference):
    assert sorted(SPECS) == sorted(BUILDERS)
    assert SPECS["srgan_lornatang_x4"].name == "SRResNet/SRGAN x4 (Lornatang)"
    for model_id, spec in SPECS.items():
        assert spec.build is BUILDERS[model_id]
        assert spec.infer is srgan.infer_srgan
        assert (reference / "manifests" / spec.manifest).is_file()
        assert spec.output_scale == int(model_id[-1])
        assert spec.tile_align == 1
        assert spec.license in ("MIT", "Apache-2.0") and not spec.non_commercial


# --- end to end: Set5 x4 with the real leftthomas weights --------------------------------------


def _luma(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 studio-range Y of [0, 1] RGB, in [16/255, 235/255] (the usual SR protocol)."""
    return (16.0 + 65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0


def _psnr_y(a: np.ndarray, b: np.ndarray, border: int) -> float:
    ya, yb = _luma(a)[border:-border, border:-border], _luma(b)[border:-border, border:-border]
    return float(10 * np.log10(1.0 / np.mean((ya.astype(np.float64) - yb) ** 2)))


@pytest.mark.slow
def test_set5_x4_beats_bicubic(data, shared, capsys):
    from PIL import Image as PILImage

    net = leftthomas_real(shared, 4)
    rows = []
    for path in sorted((data / "paired" / "sr_set5").glob("*.bmp")):
        hr = PILImage.open(path).convert("RGB")
        hr = hr.crop((0, 0, hr.width - hr.width % 4, hr.height - hr.height % 4))
        lr = hr.resize((hr.width // 4, hr.height // 4), PILImage.BICUBIC)
        bicubic = np.asarray(lr.resize(hr.size, PILImage.BICUBIC), np.float32) / 255
        truth = np.asarray(hr, np.float32) / 255
        sr = srgan.infer_srgan(net, np.asarray(lr, np.float32) / 255)
        rows.append((path.stem, _psnr_y(sr, truth, 4), _psnr_y(bicubic, truth, 4)))
    with capsys.disabled():
        for name, p_sr, p_bic in rows:
            print(f"\n  Set5 x4 {name:12s} SRGAN {p_sr:6.2f} dB  bicubic {p_bic:6.2f} dB")
    assert len(rows) == 5
    sr_db = np.array([r[1] for r in rows])
    bic_db = np.array([r[2] for r in rows])
    # Measured: 32.52 32.70 26.38 32.24 29.49 (mean 30.67) vs bicubic mean 28.43. A GAN-trained
    # generator need not beat bicubic in PSNR, but a broken port or wrong I/O falls far below it.
    assert np.all(sr_db > bic_db - 0.5)
    assert sr_db.mean() > bic_db.mean() + 1.5
    assert 29.5 < sr_db.mean() < 32.0
