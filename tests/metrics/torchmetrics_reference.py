"""torchmetrics' LPIPS and DISTS networks around a given backbone: the reference our perceptual
metrics are tested (tests/metrics/test_perceptual.py) and timed (bench/bench_new_metrics.py) against.

torchvision does not import here, so torchmetrics' backbone builders are replaced, for the
duration of the construction only, by ones returning the same (random) features as ours.
"""

from __future__ import annotations

import types

import numpy as np
import torch


def _batch(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None]


def torchmetrics_lpips(net: str, feats, a: np.ndarray, b: np.ndarray) -> float:
    import torchmetrics.functional.image.lpips as tm

    original = tm._get_tv_model_features
    tm._get_tv_model_features = lambda name, pretrained=False: feats
    try:
        model = tm._LPIPS(pretrained=True, net=net, pnet_rand=True).eval()
    finally:
        tm._get_tv_model_features = original
    with torch.no_grad():
        return float(model(_batch(a), _batch(b), normalize=True))


def torchmetrics_dists(feats, a: np.ndarray, b: np.ndarray) -> float:
    import torchmetrics.functional.image.dists as tm

    saved = (tm._TORCHVISION_AVAILABLE, getattr(tm, "vgg16", None), getattr(tm, "VGG16_Weights", None))
    tm._TORCHVISION_AVAILABLE = True
    tm.vgg16 = lambda weights=None: types.SimpleNamespace(features=feats)
    tm.VGG16_Weights = types.SimpleNamespace(DEFAULT=None)
    try:
        model = tm.DISTSNetwork(load_weights=True).eval()
    finally:
        tm._TORCHVISION_AVAILABLE, tm.vgg16, tm.VGG16_Weights = saved
    with torch.no_grad():
        return float(model(_batch(a), _batch(b)).detach())
