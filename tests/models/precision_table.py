"""Measure how far each network's fp16/bf16 output is from its float32 output, and record it.

A network "supports" a reduced precision when its output, run entirely in that dtype, stays within
HALF_TOL (about 5/255) of the float32 output on a natural 32x32 input (or the network's minimum
size), with no NaN or inf. Official weights are used where they are on this machine (demosaicnet,
leftthomas SRGAN), the golden crc32 fill (with its fixture gain) elsewhere. Measured on CPU: CPU
and GPU half kernels round alike enough for this bound; the engine only uses reduced precision on GPUs.

CPU half kernels are slow (PyNET's fp16 pass alone takes ~20 s here), so the full measurement is
recorded in precision_table.json and tests/models/test_precision.py checks the descriptors against
it, re-measuring the cheap networks live. Re-record after changing a network, its weights or torch:

    .venv/bin/python -m tests.models.precision_table      # ~2 minutes on a 2-core CPU
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from isp_viewer.core.errors import ModelError
from isp_viewer.io.images import mosaic_from_rgb
from isp_viewer.models.golden import crc32_lecun_fill, load_manifest
from isp_viewer.models.loading import load_strict, read_checkpoint
from isp_viewer.models.registry import all_specs, packaged_weight
from isp_viewer.models.spec import InputKind

HALF_TOL = 0.02
SIDE = 32
TABLE = Path(__file__).with_name("precision_table.json")
REAL = {"srgan_leftthomas_x2": "netG_epoch_2_100.pth", "srgan_leftthomas_x4": "netG_epoch_4_100.pth",
        "srgan_leftthomas_x8": "netG_epoch_8_100.pth"}
NEEDS_EXTRA_INPUT = {"cycleisp_raw2rgb"}   # needs a colour-branch net and a reference RGB
DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}


def measured_specs() -> list:
    return [s for s in all_specs() if s.id not in NEEDS_EXTRA_INPUT]


def natural_input(spec):
    import skimage.data

    side = max(SIDE, spec.min_size)
    rgb = skimage.data.astronaut()[200:200 + side, 200:200 + side].astype(np.float32) / 255
    if spec.input_kind is InputKind.BAYER:
        return mosaic_from_rgb(rgb, "RGGB"), "RGGB"
    if spec.input_kind is InputKind.XTRANS:
        from isp_viewer.models.nets.demosaicnet import XTRANS_CFA

        crop = skimage.data.astronaut()[200:236, 200:236].astype(np.float32) / 255
        return mosaic_from_rgb(crop, XTRANS_CFA), XTRANS_CFA
    return rgb, None


def loaded(spec, reference: Path, shared: Path):
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
            gain = json.loads(fixture.read_text()).get("fill", {}).get("weight_gain", 1.0)
        load_strict(net, crc32_lecun_fill(load_manifest(reference / "manifests" / spec.manifest), gain))
    return net.eval()


def _error(spec, net, x, cfa, ref, dtype) -> tuple[float | None, str | None]:
    """(max |reduced - fp32|, None), or (None, why it could not run / was not finite)."""
    try:
        out = spec.infer(net.to(dtype), x, cfa=cfa, dtype=dtype, **spec.options)
    except (RuntimeError, ModelError) as exc:   # e.g. FFTs have no half-precision CPU kernel
        return None, f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}"
    finally:
        net.float()
    if not np.all(np.isfinite(out)):
        return None, "output has NaN or inf"
    return float(np.max(np.abs(out - ref))), None


def measure(spec, reference: Path, shared: Path) -> dict:
    """One table row: per dtype the max error (or the failure) and the verdict."""
    torch.manual_seed(0)
    net = loaded(spec, reference, shared)
    x, cfa = natural_input(spec)
    ref = spec.infer(net.float(), x, cfa=cfa, **spec.options)
    row: dict = {"input_shape": list(np.shape(x))}
    for name, dtype in DTYPES.items():
        err, failure = _error(spec, net, x, cfa, ref, dtype)
        row[name] = {"max_error": err, "failure": failure, "supported": err is not None and err <= HALF_TOL}
    return row


def main() -> None:
    from tests.conftest import shared_root

    shared = shared_root()
    rows = {}
    for spec in measured_specs():
        rows[spec.id] = measure(spec, shared / "reference", shared)
        print(f"{spec.id:22} {rows[spec.id]}", flush=True)
    doc = {"half_tol": HALF_TOL, "side": SIDE, "torch": torch.__version__, "device": "cpu", "networks": rows}
    TABLE.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {TABLE}")


if __name__ == "__main__":
    main()
