"""fp16/bf16 support in each descriptor is measured here, not guessed.

A network "supports" a reduced precision when its output, run entirely in that dtype, stays within
HALF_TOL (about 5/255) of the float32 output on a natural 32x32 input
(or the network's minimum size), with no NaN or inf.
Official weights are used where they are on this machine (demosaicnet, leftthomas SRGAN), the
golden crc32 fill (with its fixture gain) elsewhere. Measured on CPU: CPU and GPU half kernels
round alike enough for this bound; the engine still only uses reduced precision on GPUs.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from isp_viewer.core.errors import ModelError
from isp_viewer.io.images import mosaic_from_rgb
from isp_viewer.models.golden import crc32_lecun_fill, load_manifest
from isp_viewer.models.loading import load_strict, read_checkpoint
from isp_viewer.models.registry import all_specs, packaged_weight
from isp_viewer.models.spec import InputKind

HALF_TOL = 0.02
REAL = {"srgan_leftthomas_x2": "netG_epoch_2_100.pth", "srgan_leftthomas_x4": "netG_epoch_4_100.pth",
        "srgan_leftthomas_x8": "netG_epoch_8_100.pth"}
NEEDS_EXTRA_INPUT = {"cycleisp_raw2rgb"}   # needs a colour-branch net and a reference RGB


def _natural_input(spec):
    import skimage.data

    side = max(32, spec.min_size)
    rgb = skimage.data.astronaut()[200:200 + side, 200:200 + side].astype(np.float32) / 255
    if spec.input_kind is InputKind.BAYER:
        return mosaic_from_rgb(rgb, "RGGB"), "RGGB"
    if spec.input_kind is InputKind.XTRANS:
        from isp_viewer.models.nets.demosaicnet import XTRANS_CFA

        cell = XTRANS_CFA
        return mosaic_from_rgb(skimage.data.astronaut()[200:236, 200:236].astype(np.float32) / 255, cell), cell
    return rgb, None


def _loaded(spec, reference, shared):
    net = spec.build()
    packaged = packaged_weight(spec)
    if spec.id in REAL:
        load_strict(net, read_checkpoint(shared / "weights/srgan_leftthomas" / REAL[spec.id]))
    elif packaged is not None:
        load_strict(net, read_checkpoint(packaged))
    else:
        gain = 1.0
        fixture = reference / "golden" / spec.manifest
        if fixture.exists():
            gain = json.loads(fixture.read_text())["fill"].get("weight_gain", 1.0)
        load_strict(net, crc32_lecun_fill(load_manifest(reference / "manifests" / spec.manifest), gain))
    return net.eval()


def _error(spec, net, x, cfa, dtype) -> float:
    ref = spec.infer(net.float(), x, cfa=cfa, **spec.options)
    try:
        out = spec.infer(net.to(dtype), x, cfa=cfa, dtype=dtype, **spec.options)
    except (RuntimeError, ModelError):
        return float("inf")   # e.g. FFTs have no half-precision CPU kernel
    finally:
        net.float()
    return float(np.max(np.abs(out - ref))) if np.all(np.isfinite(out)) else float("inf")


@pytest.mark.parametrize("spec", [s for s in all_specs() if s.id not in NEEDS_EXTRA_INPUT], ids=lambda s: s.id)
def test_descriptor_precision_flags_are_measured(spec, reference, shared):
    torch.manual_seed(0)
    net = _loaded(spec, reference, shared)
    x, cfa = _natural_input(spec)
    err16 = _error(spec, net, x, cfa, torch.float16)
    errbf = _error(spec, net, x, cfa, torch.bfloat16)
    assert spec.fp16 == (err16 <= HALF_TOL), f"{spec.id}: fp16 max error {err16:.4g}"
    assert spec.bf16 == (errbf <= HALF_TOL), f"{spec.id}: bf16 max error {errbf:.4g}"


def test_raw2rgb_is_fp32_only():
    from isp_viewer.models.registry import get_spec

    spec = get_spec("cycleisp_raw2rgb")
    assert not spec.fp16 and not spec.bf16   # not measured (needs a reference image): never guessed
