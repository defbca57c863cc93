"""The registry: one explicit list, truthful descriptors, weight discovery, checkpoint detection."""

from __future__ import annotations

import pytest

from isp_viewer.core.errors import ModelError, WeightsError
from isp_viewer.models.loading import sha256_of_file
from isp_viewer.models.registry import (
    all_specs,
    detect_checkpoint,
    find_weights,
    get_spec,
    load_network,
    packaged_weight,
)
from isp_viewer.models.spec import InputKind, Task

EXPECTED_IDS = {
    "pynet", "pynet_ca", "cycleisp_denoise_raw", "cycleisp_denoise_rgb", "cycleisp_rgb2raw", "cycleisp_raw2rgb",
    "sgnet", "uhdfour_uhd", "uhdfour_lol", "srgan_lornatang_x4", "srgan_leftthomas_x2", "srgan_leftthomas_x4",
    "srgan_leftthomas_x8", "demosaicnet_bayer", "demosaicnet_xtrans",
    "kokkinos_bayer", "kokkinos_bayer_noisy", "kokkinos_xtrans",
}


def test_every_network_and_variant_is_registered_once():
    ids = [s.id for s in all_specs()]
    assert len(ids) == len(set(ids))
    assert set(ids) == EXPECTED_IDS


def test_descriptors_carry_the_facts(reference):
    for spec in all_specs():
        assert spec.paper and spec.license and spec.name
        assert (reference / "manifests" / spec.manifest).is_file(), spec.manifest
        assert isinstance(spec.task, Task) and isinstance(spec.input_kind, InputKind)
        assert spec.output_scale >= 1 and spec.size_multiple >= 1 and spec.min_size >= 1
        assert spec.tile_align in (1, 2, 6)
    assert get_spec("sgnet").weights == () or "no public weights" in get_spec("sgnet").notes
    assert get_spec("pynet").non_commercial and get_spec("uhdfour_uhd").non_commercial
    assert not get_spec("demosaicnet_bayer").non_commercial
    assert get_spec("srgan_leftthomas_x8").output_scale == 8
    assert get_spec("demosaicnet_xtrans").input_kind is InputKind.XTRANS
    with pytest.raises(ModelError, match="unknown model"):
        get_spec("nope")


def test_demosaicnet_works_out_of_the_box_from_the_wheel(shared):
    for variant, name in (("demosaicnet_bayer", "bayer.pth"), ("demosaicnet_xtrans", "xtrans.pth")):
        spec = get_spec(variant)
        path = packaged_weight(spec)
        assert path is not None and path.name == name
        assert sha256_of_file(path) == sha256_of_file(shared / "weights/demosaicnet" / name)
        loaded = load_network(spec)            # no weights set up by hand
        assert loaded.weights_sha256 == sha256_of_file(path)


@pytest.mark.parametrize("rel,expected", [
    ("demosaicnet/bayer.pth", "demosaicnet_bayer"),
    ("demosaicnet/xtrans.pth", "demosaicnet_xtrans"),
    ("srgan_leftthomas/netG_epoch_2_100.pth", "srgan_leftthomas_x2"),
    ("srgan_leftthomas/netG_epoch_4_100.pth", "srgan_leftthomas_x4"),
    ("srgan_leftthomas/netG_epoch_8_100.pth", "srgan_leftthomas_x8"),
])
def test_detect_real_checkpoints(shared, rel, expected):
    assert [s.id for s in detect_checkpoint(shared / "weights" / rel)] == [expected]


def test_weights_folder_and_mismatch(shared, tmp_path, monkeypatch):
    import shutil

    monkeypatch.setenv("ISPV_WEIGHTS", str(tmp_path))
    spec = get_spec("srgan_leftthomas_x4")
    assert find_weights(spec) is None
    (tmp_path / "sub").mkdir()
    shutil.copy(shared / "weights/srgan_leftthomas/netG_epoch_4_100.pth", tmp_path / "sub")
    assert find_weights(spec).name == "netG_epoch_4_100.pth"
    with pytest.raises(WeightsError, match="does not fit"):
        load_network(get_spec("srgan_leftthomas_x2"), tmp_path / "sub/netG_epoch_4_100.pth")
    with pytest.raises(WeightsError, match="no weights found"):
        load_network(get_spec("uhdfour_uhd"))


def test_cycleisp_raw2rgb_loads_its_colour_branch_and_needs_a_reference(reference, tmp_path, data, monkeypatch):
    """With (crc32-filled) raw2rgb_joint.pth and ccm_joint.pth side by side, the registry loads both
    strictly, and the network runs only with a reference image of the same scene."""
    import numpy as np
    import torch

    from isp_viewer.core.errors import ModelError
    from isp_viewer.io.images import read_image, simulate_mosaic
    from isp_viewer.models.adapters import reference_option, run_full_frame
    from isp_viewer.models.golden import crc32_lecun_fill, load_manifest

    monkeypatch.setenv("ISPV_WEIGHTS", str(tmp_path))
    for name, manifest in (("raw2rgb_joint.pth", "cycleisp_raw2rgb.json"), ("ccm_joint.pth", "cycleisp_ccm.json")):
        torch.save({"state_dict": crc32_lecun_fill(load_manifest(reference / "manifests" / manifest), 0.7)},
                   tmp_path / name)
    spec = get_spec("cycleisp_raw2rgb")
    loaded = load_network(spec)
    assert [opt for opt, _ in loaded.companions] == ["ccm_net"]
    ref = read_image(data / "paired/kodak24/kodim19.png")
    crop = ref.with_data(ref.data[:64, :64])
    mosaic = simulate_mosaic(crop, "RGGB")
    with pytest.raises(ModelError, match="reference RGB"):
        reference_option(spec, None, mosaic)
    out = run_full_frame(spec, loaded.net, mosaic, **loaded.infer_options(), **reference_option(spec, crop, mosaic))
    assert out.shape == (64, 64, 3) and np.all(np.isfinite(out))
    (tmp_path / "ccm_joint.pth").unlink()
    with pytest.raises(WeightsError, match=r"also needs ccm_joint\.pth"):
        load_network(spec)
