"""UHDFour port: manifests, golden fixtures, checkpoint loading, and what infer_uhdfour promises."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from isp_viewer.core.errors import ModelError, WeightsError
from isp_viewer.models.loading import load_strict, read_checkpoint
from isp_viewer.models.nets import uhdfour
from isp_viewer.models.nets.uhdfour import SPECS, build_uhdfour_lol, build_uhdfour_uhd, infer_uhdfour
from tests.models.golden_utils import (
    assert_outputs_match,
    assert_state_dict_matches_manifest,
    fill_for_fixture,
    load_fixture,
    run_fixture,
)

BUILDERS = {"uhdfour_uhd": build_uhdfour_uhd, "uhdfour_lol": build_uhdfour_lol}


@pytest.fixture(scope="module")
def nets() -> dict[str, torch.nn.Module]:
    """Both variants with torch's default (seeded) init: enough for pre/post-processing facts."""
    torch.manual_seed(0)
    return {name: build() for name, build in BUILDERS.items()}


def dark_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth low-light sRGB image with some texture, HxWx3 float32 in [0, 0.4]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 0.15 + 0.1 * np.sin(xx / 7.0)[..., None] * np.cos(yy / 5.0)[..., None]
    tint = np.array([1.0, 0.8, 0.6], np.float32)
    noise = 0.05 * rng.random((height, width, 3), dtype=np.float32)
    return np.clip(base * tint + noise, 0, 0.4).astype(np.float32)


def forward_clipped(net: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    """Upstream's own call on an HxWx3 image whose sides already fit, clipped like save_image."""
    with torch.no_grad():
        enhanced, _ = net(torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1)[None])
    return enhanced[0].permute(1, 2, 0).clamp(0, 1).numpy()


# --- structure and golden outputs ------------------------------------------------------------


@pytest.mark.parametrize("name", list(BUILDERS))
def test_state_dict_matches_manifest(name, reference):
    assert_state_dict_matches_manifest(BUILDERS[name](), reference / "manifests" / f"{name}.json")


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BUILDERS))
def test_golden_fixture(name, reference):
    meta, arrays = load_fixture(reference, name)
    net = fill_for_fixture(BUILDERS[name](), reference, meta)
    outputs = run_fixture(net, meta, arrays)
    assert [tuple(o.shape) for o in outputs] == [tuple(v["shape"]) for v in meta["outputs"].values()]
    assert_outputs_match(outputs, meta, arrays, ["enhanced", "low_res"])


def test_low_res_branch_is_at_the_variant_scale(nets):
    x = torch.from_numpy(dark_image(64, 80)).permute(2, 0, 1)[None]
    with torch.no_grad():
        uhd_out, uhd_low = nets["uhdfour_uhd"](x)
        lol_out, lol_low = nets["uhdfour_lol"](x[..., :32, :48])
    assert uhd_out.shape == (1, 3, 64, 80) and uhd_low.shape == (1, 3, 8, 10)
    assert lol_out.shape == (1, 3, 32, 48) and lol_low.shape == (1, 3, 16, 24)


# --- checkpoints -----------------------------------------------------------------------------


def test_dataparallel_checkpoint_loads_strictly(tmp_path, nets):
    """Upstream saves DataParallel(model).state_dict(): every key starts with 'module.'."""
    source = nets["uhdfour_uhd"].state_dict()
    path = tmp_path / "UHD_checkpoint.pt"
    torch.save({f"module.{k}": v for k, v in source.items()}, path)
    net = load_strict(build_uhdfour_uhd(), read_checkpoint(path), path.name)
    for key, value in net.state_dict().items():
        assert torch.equal(value, source[key]), key


def test_checkpoint_of_the_other_variant_is_refused_with_a_readable_message(nets):
    """Upstream's strict=False would silently half-load a LOL file into the UHD net; we refuse."""
    with pytest.raises(WeightsError) as info:
        load_strict(build_uhdfour_uhd(), nets["uhdfour_lol"].state_dict(), "LOLv1_checkpoint.pt")
    message = str(info.value)
    assert message.startswith("LOLv1_checkpoint.pt does not fit UHDFourNet")
    assert "wrong shape" in message and "lownet.convout.weight" in message and "\n" not in message


def test_checkpoint_missing_unused_layers_is_refused(nets):
    """The never-called convs are still part of the released state_dict, so they must be present."""
    state = {k: v for k, v in nets["uhdfour_uhd"].state_dict().items() if ".frequency_spatial." not in k}
    with pytest.raises(WeightsError, match=r"missing: lownet\.conv1\.frequency_spatial\.weight"):
        load_strict(build_uhdfour_uhd(), state, "UHD_checkpoint.pt")


@pytest.mark.slow
@pytest.mark.parametrize("spec_id, file_name", [(s.id, n) for s in SPECS for w in s.weights for n in w.names])
def test_official_weights_load_strictly_and_brighten(spec_id, file_name, shared):
    path = next((shared / "weights").rglob(file_name), None)
    if path is None:
        pytest.skip(f"{file_name} is not in shared/weights (distributed via Google Drive / Baidu only)")
    spec = next(s for s in SPECS if s.id == spec_id)
    net = load_strict(spec.build(), read_checkpoint(path), file_name)
    x = dark_image(64, 64)
    y = spec.infer(net, x)
    assert y.shape == x.shape and np.isfinite(y).all()
    assert y.mean() > 1.5 * x.mean()


# --- infer -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, size", [("uhdfour_uhd", (64, 72)), ("uhdfour_lol", (16, 24))])
def test_infer_equals_upstream_forward_when_sides_fit(nets, name, size):
    x = dark_image(*size)
    got = infer_uhdfour(nets[name], x)
    assert got.dtype == np.float32 and got.shape == (*size, 3)
    assert got.min() >= 0 and got.max() <= 1
    unclipped = (got > 0) & (got < 1)
    assert unclipped.mean() > 0.3, "the comparison should not be decided by clipping alone"
    np.testing.assert_allclose(got, forward_clipped(nets[name], x), atol=1e-6, rtol=0)


@pytest.mark.parametrize("name, size", [("uhdfour_uhd", (67, 75)), ("uhdfour_lol", (17, 19))])
def test_infer_reflect_pads_to_multiple_of_8_and_crops_back(nets, name, size):
    height, width = size
    x = dark_image(height, width, seed=1)
    got = infer_uhdfour(nets[name], x)
    assert got.shape == (height, width, 3)
    padded = np.pad(x, ((0, -height % 8), (0, -width % 8), (0, 0)), mode="reflect")
    want = forward_clipped(nets[name], padded)[:height, :width]
    np.testing.assert_allclose(got, want, atol=1e-6, rtol=0)
    # Upstream would crop to the multiple instead: the kept pixels then come out differently,
    # because the Fourier blocks see the whole frame.
    cropped = forward_clipped(nets[name], x[: height - height % 8, : width - width % 8])
    assert np.abs(cropped - got[: cropped.shape[0], : cropped.shape[1]]).max() > 1e-4


def test_min_size_is_what_the_network_needs(nets):
    """One multiple of 8 below min_size the coarsest InstanceNorm sees a single pixel and torch fails."""
    for name, net in nets.items():
        below = net.variant.min_size - 8
        with pytest.raises(ValueError, match="more than 1 spatial element"), torch.no_grad():
            net(torch.rand(1, 3, below, below))
        spec = next(s for s in SPECS if s.id == name)
        assert infer_uhdfour(net, dark_image(spec.min_size, spec.min_size)).shape == (spec.min_size,) * 2 + (3,)


@pytest.mark.parametrize(
    "name, x, kwargs, words",
    [
        ("uhdfour_uhd", np.zeros((63, 100, 3), np.float32), {}, "at least 64x64"),
        ("uhdfour_uhd", np.zeros((100, 63, 3), np.float32), {}, "at least 64x64"),
        ("uhdfour_lol", np.zeros((15, 40, 3), np.float32), {}, "at least 16x16"),
        ("uhdfour_uhd", np.zeros((128, 128), np.float32), {"cfa": "RGGB"}, "not RAW mosaics"),
        ("uhdfour_uhd", np.zeros((128, 128), np.float32), {}, "not RAW mosaics"),
        ("uhdfour_lol", np.zeros((64, 64, 3), np.float32), {"cfa": "RGGB"}, "not RAW mosaics"),
        ("uhdfour_uhd", np.zeros((128, 128, 4), np.float32), {}, "HxWx3"),
        ("uhdfour_lol", np.zeros((64, 64, 3), np.float32), {"strength": 2}, "no options"),
    ],
)
def test_infer_refuses_unusable_input(nets, name, x, kwargs, words):
    with pytest.raises(ModelError, match=words):
        infer_uhdfour(nets[name], x, **kwargs)


def test_infer_float64_agrees_and_returns_float32(nets):
    net = nets["uhdfour_lol"]
    x = dark_image(16, 16, seed=2)
    want = infer_uhdfour(net, x)
    try:
        got = infer_uhdfour(net, x, dtype=torch.float64)
    finally:
        net.float()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


def test_tiles_do_not_reproduce_the_full_frame(nets):
    """Why tiling_safe is False: even 32 px of context leaves visible differences (global FFT/IN)."""
    net = nets["uhdfour_uhd"]
    x = dark_image(64, 128, seed=3)
    full = infer_uhdfour(net, x)
    tile = infer_uhdfour(net, np.ascontiguousarray(x[:, :96]))
    assert np.abs(full[:, :64] - tile[:, :64]).max() > 1e-3


# --- descriptors -----------------------------------------------------------------------------


def test_specs_state_the_facts():
    specs = {s.id: s for s in SPECS}
    assert list(specs) == ["uhdfour_uhd", "uhdfour_lol"]
    weight_names = {i: [n for w in s.weights for n in w.names] for i, s in specs.items()}
    assert weight_names == {"uhdfour_uhd": ["UHD_checkpoint.pt"],
                            "uhdfour_lol": ["LOLv1_checkpoint.pt", "LOLv2_checkpoint.pt"]}
    for spec_id, spec in specs.items():
        assert spec.manifest == f"{spec_id}.json"
        assert spec.build is BUILDERS[spec_id] and spec.infer is infer_uhdfour
        assert spec.task.value == "low-light enhancement" and spec.input_kind.value == "sRGB"
        assert (spec.output_scale, spec.size_multiple, spec.tile_align) == (1, 8, 1)
        assert not spec.tiling_safe and "tiling" in spec.notes.lower()
        assert spec.non_commercial and "S-Lab" in spec.license
        assert "unverified" in spec.reported_metrics
        assert not spec.fp16 and not spec.bf16
    assert specs["uhdfour_uhd"].min_size == 64 and specs["uhdfour_lol"].min_size == 16
    assert uhdfour.UHD.min_size == 64 and uhdfour.LOL.min_size == 16


def test_builders_give_eval_float32_modules(nets):
    for net in nets.values():
        assert not net.training
        assert {p.dtype for p in net.parameters()} == {torch.float32}
