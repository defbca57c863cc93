"""Kokkinos MMNet: manifests, every golden fixture (per stage and final) with the real weights,
the noise estimator, and the CFA helpers (phases, X-Trans labelling, padding)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from isp_viewer.core.errors import ModelError
from isp_viewer.models.loading import load_strict, read_checkpoint, sha256_of_file
from isp_viewer.models.nets import kokkinos, kokkinos_cfa
from isp_viewer.models.registry import detect_checkpoint, get_spec
from tests.models.golden_utils import assert_state_dict_matches_manifest

VARIANTS = {"kokkinos_bayer": "bayer", "kokkinos_bayer_noisy": "bayer_noisy", "kokkinos_xtrans": "xtrans"}
FIXTURES = [f"{kind}_{crop}" for kind in ("bayer", "bayer_noisy_s5", "bayer_noisy_s10", "xtrans", "xtrans_rbswap")
            for crop in ("a64x64", "b96x128")]
TOL = 1e-3          # [0, 255] scale


def _kdir(reference: Path) -> Path:
    return reference / "kokkinos"


def _net(shared: Path, folder: str) -> torch.nn.Module:
    net = kokkinos.build_kokkinos()
    load_strict(net, read_checkpoint(shared / "weights/kokkinos" / folder / "model_best.pth"))
    return net.eval()


def _fixture(reference: Path, name: str) -> tuple[dict, dict]:
    meta = json.loads((_kdir(reference) / "golden" / f"{name}.json").read_text())
    with np.load(_kdir(reference) / "golden" / f"{name}.npz", allow_pickle=False) as npz:
        return meta, {k: npz[k] for k in npz.files}


def _folder(fixture: str) -> str:
    return "bayer_noisy" if "noisy" in fixture else "xtrans" if "xtrans" in fixture else "bayer"


@pytest.mark.parametrize("model_id", sorted(VARIANTS))
def test_state_dict_equals_the_manifest_and_the_official_file_loads_strictly(model_id, reference, shared):
    spec = get_spec(model_id)
    manifest = reference / "manifests" / spec.manifest
    assert_state_dict_matches_manifest(spec.build(), manifest)
    path = shared / "weights/kokkinos" / VARIANTS[model_id] / "model_best.pth"
    raw = torch.load(path, map_location="cpu", weights_only=True)      # upstream's [state_dict, K, depth]
    assert isinstance(raw, list) and raw[1:] == [kokkinos.STAGES, kokkinos.DEPTH]
    assert sha256_of_file(path) == json.loads(manifest.read_text())["checkpoint"]["sha256"] == spec.weights[0].sha256
    load_strict(spec.build(), read_checkpoint(path), path.name)
    assert [s.id for s in detect_checkpoint(path)] == [model_id]       # same shapes: the hash tells them apart


@pytest.mark.parametrize("fixture", FIXTURES)
def test_golden_fixture_every_stage(fixture, reference, shared):
    meta, a = _fixture(reference, fixture)
    net = _net(shared, _folder(fixture))
    y, m = torch.from_numpy(a["y"]), torch.from_numpy(a["M"])
    init, estimate = "xtrans" not in fixture, "noisy" in fixture
    with torch.inference_mode():
        x0 = kokkinos_cfa.bilinear_init(y) if init else y
        noise = kokkinos_cfa.wmad_sigma(y) if estimate else torch.tensor([1.0])
        den0 = net.denoise(torch.from_numpy(a["den0_in"]), noise, 0)
        stages = [s[0].numpy() for s in net.iterate(y, m, x0, noise)]
    np.testing.assert_allclose(x0.numpy(), a["x_init"], atol=1e-4)
    np.testing.assert_allclose(noise.numpy(), a["L"], rtol=1e-5)
    assert float(noise[0]) == pytest.approx(meta["L_used_f32"], rel=1e-5)
    np.testing.assert_allclose(den0.numpy(), a["den0_out"], atol=TOL)
    assert len(stages) == a["stages"].shape[0] == 20
    for k, stage in enumerate(stages):
        assert np.abs(stage - a["stages"][k]).max() < TOL, f"stage {k}"
    ours = np.abs(stages[-1] - a["out"][0]).max()
    room = np.abs(a["out_f64"] - a["out"]).max()
    assert ours < TOL
    # The float32 port is as close to the float64 rerun as upstream's float32 run is (a few x room).
    assert np.abs(stages[-1] - a["out_f64"][0]).max() < max(4 * room, 2e-4)


@pytest.mark.parametrize("fixture,labelling", [("bayer_a64x64", None), ("bayer_noisy_s10_b96x128", None),
                                               ("xtrans_a64x64", "literal"), ("xtrans_rbswap_b96x128", "swapped")])
def test_infer_on_the_2d_mosaic_reproduces_the_fixture(fixture, labelling, reference, shared):
    """The product path: a [0, 1] mosaic and its true-colour CFA in, HxWx3 out."""
    _, a = _fixture(reference, fixture)
    mosaic = a["y"][0].sum(axis=0) / 255.0
    if labelling is None:
        spec, cfa, opts = get_spec("kokkinos_bayer_noisy" if "noisy" in fixture else "kokkinos_bayer"), "RGGB", {}
    else:
        spec, opts = get_spec("kokkinos_xtrans"), {"labelling": labelling}
        # literal: the mask's letters are the colours; rbswap: the "R" sites hold the scene's blue
        layout = kokkinos_cfa.XTRANS_LAYOUT
        cfa = layout if labelling == "literal" else kokkinos_cfa.swap_red_blue(layout)
    out = spec.infer(_net(shared, _folder(fixture)), mosaic, cfa=cfa, **{**spec.options, **opts})
    want = np.clip(a["out"][0].transpose(1, 2, 0) / 255.0, 0, 1)
    assert out.shape == want.shape and out.dtype == np.float32
    assert np.abs(out - want).max() * 255 < TOL


def test_xtrans_swapped_labelling_gives_right_colours_on_the_golden_crops(reference, shared):
    net = _net(shared, "xtrans")
    spec = get_spec("kokkinos_xtrans")
    assert spec.options["labelling"] == "swapped" and "weaker than the Bayer" in spec.notes
    for crop in ("a64x64", "b96x128"):
        _, a = _fixture(reference, f"xtrans_{crop}")
        gt = a["gt"][0].transpose(1, 2, 0) / 255.0
        mosaic = a["y"][0].sum(axis=0) / 255.0       # true colours on upstream's layout
        psnr = {}
        for labelling in ("literal", "swapped"):
            out = spec.infer(net, mosaic, cfa=kokkinos_cfa.XTRANS_LAYOUT, labelling=labelling, frame="whole")
            psnr[labelling] = 10 * np.log10(1 / np.mean((out[8:-8, 8:-8] - gt[8:-8, 8:-8]) ** 2))
        assert psnr["literal"] < 25 and psnr["swapped"] > 29, psnr


def test_bayer_anchor_offsets_and_phase_moves():
    assert kokkinos_cfa.anchor_offset("RGGB", "RGGB") == (0, 0)
    assert kokkinos_cfa.anchor_offset("GRBG", "RGGB") == (0, 1)
    assert kokkinos_cfa.anchor_offset("GBRG", "RGGB") == (1, 0)
    assert kokkinos_cfa.anchor_offset("BGGR", "RGGB") == (1, 1)
    assert kokkinos_cfa.anchor_offset("RGBG", "RGGB") is None
    layout = kokkinos_cfa.XTRANS_LAYOUT
    for dy in range(6):
        for dx in range(6):
            cell = np.array(list(layout)).reshape(6, 6)
            shifted = "".join(np.roll(cell, (-dy, -dx), axis=(0, 1)).ravel())   # the cell seen from (dy, dx)
            off = kokkinos_cfa.anchor_offset(shifted, layout)
            # padding by off puts the layout at (0, 0): checked on the padded colour map
            mask = kokkinos_cfa.mask_for(shifted, 18, 18)
            padded = np.stack([kokkinos_cfa.pad_mosaic(c, off[0], off[1], 0, 0, 6) for c in mask])
            np.testing.assert_array_equal(padded, kokkinos_cfa.mask_for(layout, *padded.shape[1:]))


@pytest.mark.parametrize("period", [2, 6])
def test_padding_keeps_the_cfa_phase(period):
    cfa = "RGGB" if period == 2 else kokkinos_cfa.XTRANS_LAYOUT
    mask = kokkinos_cfa.mask_for(cfa, 20, 26)
    padded = np.stack([kokkinos_cfa.pad_mosaic(c, 2 * period, period, 8, 9, period) for c in mask])
    np.testing.assert_array_equal(padded, kokkinos_cfa.mask_for(cfa, *padded.shape[1:]))
    plane = np.arange(20 * 26, dtype=np.float32).reshape(20, 26)
    if period == 2:   # numpy's 'reflect' exactly
        np.testing.assert_array_equal(kokkinos_cfa.pad_mosaic(plane, 8, 8, 8, 8, 2), np.pad(plane, 8, mode="reflect"))


def test_wmad_estimator_is_positively_homogeneous_and_finds_white_noise():
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((1, 1, 256, 256)).astype(np.float32) * 10 + 128
    y = torch.from_numpy(np.concatenate([noise, 0 * noise, 0 * noise], axis=1))
    sigma = float(kokkinos_cfa.wmad_sigma(y)[0])
    assert 9.3 < sigma < 10.7
    assert float(kokkinos_cfa.wmad_sigma(y / 255 * 0.9)[0]) == pytest.approx(sigma / 255 * 0.9, rel=1e-4)


def test_bad_inputs_say_why(shared):
    spec = get_spec("kokkinos_bayer")
    net = kokkinos.build_kokkinos()
    with pytest.raises(ModelError, match="CFA"):
        spec.infer(net, np.zeros((16, 16), np.float32), cfa=kokkinos_cfa.XTRANS_LAYOUT)
    with pytest.raises(ModelError, match="HxW"):
        spec.infer(net, np.zeros((16, 16, 3), np.float32), cfa="RGGB")
    with pytest.raises(ModelError, match="frame"):
        spec.infer(net, np.zeros((16, 16), np.float32), cfa="RGGB", frame="tiles")
    with pytest.raises(ModelError, match="255"):
        spec.infer(net, np.zeros((16, 16), np.float32), cfa="RGGB", noise_sigma=-1)
