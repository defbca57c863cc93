"""The catalogue's newer metrics timed beside reference implementations (used by bench/metrics.py).

dE2000: colour-science (sRGB -> XYZ -> Lab, delta_E 'CIE 2000', float64). LPIPS/DISTS:
torchmetrics' networks around the same randomly initialised backbone (torchvision does not
import here, so its backbone builder is replaced by ours). Zipper, false colour, NIQE, BRISQUE
and registration have no installable reference here (BasicSR and libsvm-based packages need
torchvision or a compiler): they are timed alone.
"""

from __future__ import annotations

import cv2
import numpy as np
from _timing import timed

from isp_viewer.metrics.artifacts import false_colour, zipper
from isp_viewer.metrics.brisque import brisque
from isp_viewer.metrics.colour_difference import de2000
from isp_viewer.metrics.niqe import niqe
from isp_viewer.metrics.registration import register
from tests.metrics.torchmetrics_reference import torchmetrics_dists, torchmetrics_lpips


def _line(label: str, ours: tuple[float, float], base: tuple[float, float] | None, note: str = "") -> None:
    text = f"  {label:24}: ours wall {ours[0]:7.3f} s  cpu {ours[1]:7.3f} s"
    if base:
        text += f"   reference wall {base[0]:7.3f} s  cpu {base[1]:7.3f} s   speed-up wall x{base[0] / ours[0]:.1f}"
        text += f" cpu x{base[1] / ours[1]:.1f}"
    print(text + (f"   {note}" if note else ""))


def _colour_science_de(test: np.ndarray, ref: np.ndarray) -> float:
    import colour

    def lab(a):
        return colour.XYZ_to_Lab(colour.sRGB_to_XYZ(a.astype(np.float64)))

    return float(colour.delta_E(lab(test), lab(ref), method="CIE 2000").mean())


def run_new_metrics(test: np.ndarray, ref: np.ndarray, perceptual_size: int) -> bool:
    import torch

    from isp_viewer.metrics.backbones import build_features
    from isp_viewer.metrics.perceptual import Dists, Lpips

    ok = True
    h, w = ref.shape[:2]
    print(f"\n[other metrics]  {w}x{h} unless stated; ours vs reference implementation")
    ours, ow, oc = timed(lambda: de2000(test, ref), 1)
    base, bw, bc = timed(lambda: _colour_science_de(test, ref), 1)
    agree = abs(ours.mean - base) <= 1e-3
    ok &= agree
    _line("dE2000 (colour-science)", (ow, oc), (bw, bc), f"mean {ours.mean:.5f} vs {base:.5f} "
          f"({'equal' if agree else 'DIFFERENT'})")
    for label, fn in (("zipper (Lu & Tan)", lambda: zipper(test, ref).percent),
                      ("false colour", lambda: false_colour(test, ref)),
                      ("NIQE", lambda: niqe(test)), ("BRISQUE", lambda: brisque(test))):
        value, tw, tc = timed(fn, 1)
        _line(label, (tw, tc), None, f"value {value:.4f}; no installable reference")
    moved = cv2.warpAffine(ref, np.float32([[1, 0, 1.25], [0, 1, -0.75]]), (w, h), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REFLECT)
    reg, tw, tc = timed(lambda: register(moved, ref), 1)
    _line("registration (transl.)", (tw, tc), None, f"{reg.describe()} (true +1.25, -0.75)")

    torch.manual_seed(0)
    for net, side in (("alex", perceptual_size), ("vgg", perceptual_size // 2)):
        a, b = np.ascontiguousarray(test[:side, :side]), np.ascontiguousarray(ref[:side, :side])
        feats = build_features(net)
        model = Lpips(net, feats)
        ours_v, ow, oc = timed(lambda model=model, a=a, b=b: model(a, b), 1)
        base_v, bw, bc = timed(lambda net=net, feats=feats, a=a, b=b: torchmetrics_lpips(net, feats, a, b), 1)
        agree = abs(ours_v - base_v) <= 1e-4 * max(1e-6, abs(base_v))
        ok &= agree
        _line(f"LPIPS-{net} {side}px (torchm.)", (ow, oc), (bw, bc), f"{ours_v:.6f} vs {base_v:.6f} "
              f"({'equal' if agree else 'DIFFERENT'}); random backbone")
    side = perceptual_size // 2
    a, b = np.ascontiguousarray(test[:side, :side]), np.ascontiguousarray(ref[:side, :side])
    feats = build_features("vgg")
    ours_v, ow, oc = timed(lambda: Dists(feats)(a, b), 1)
    base_v, bw, bc = timed(lambda: torchmetrics_dists(feats, a, b), 1)
    agree = abs(ours_v - base_v) <= 1e-4
    ok &= agree
    _line(f"DISTS {side}px (torchmetrics)", (ow, oc), (bw, bc), f"{ours_v:.6f} vs {base_v:.6f} "
          f"({'equal' if agree else 'DIFFERENT'}); random backbone")
    return ok
