"""Perceptual full-reference metrics: LPIPS (AlexNet, VGG16) and DISTS; lower is closer.

LPIPS v0.1 (Zhang et al., CVPR 2018): sRGB in [0, 1] -> [-1, 1], the authors' scaling layer
(shift -0.030, -0.088, -0.188; scale 0.458, 0.448, 0.450), five ReLU stages of the backbone, each
unit-normalised over channels (x / (|x| + 1e-10)), squared difference, the learned 1x1 head,
spatial mean, summed over stages.
DISTS (Ding et al., TPAMI 2020): VGG16 with L2 pooling (3x3 Hann window, stride 2) in place of
max pooling, ImageNet mean/std normalisation, the image itself plus five stages; per channel a
structure term from the means and a texture term from (co)variances, weighted by the learned
alpha/beta (normalised to sum 1), 1 - weighted sum, c1 = c2 = 1e-6.
Both are computed on the whole image at its resolution (no resizing).

Heads: the learned weights ship in the torchmetrics wheel (lpips_models/{alex,vgg}.pth,
dists_models/weights.pt); they are read from its files without importing the package. Backbones:
torchvision's ImageNet files from the user's torch cache or a given path (see `backbones`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.metrics.backbones import find_backbone, load_features
from isp_viewer.metrics.convention import ArrayLike, as_unit_array

LPIPS_STAGE_ENDS = {"alex": (2, 5, 8, 10, 12), "vgg": (4, 9, 16, 23, 30)}
LPIPS_CHANNELS = {"alex": (64, 192, 384, 256, 256), "vgg": (64, 128, 256, 512, 512)}
DISTS_CHANNELS = (3, 64, 128, 256, 512, 512)
LPIPS_CONVENTION = "LPIPS v0.1 ({net}), sRGB [0,1] at full resolution; lower is closer"
DISTS_CONVENTION = "DISTS (VGG16, L2 pooling), sRGB [0,1] at full resolution; lower is closer"


def head_file(relative: str) -> Path | None:
    """A data file of the installed torchmetrics wheel (e.g. "lpips_models/alex.pth"), or None.

    find_spec of the top-level package locates it without running its __init__.
    """
    try:
        spec = importlib.util.find_spec("torchmetrics")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or ()) if spec else ():
        candidate = Path(folder) / "functional" / "image" / relative
        if candidate.is_file():
            return candidate
    return None


def unavailable_reason(metric: str, backbone: str | None = None) -> str:
    """"" when `metric` ("lpips-alex", "lpips-vgg", "dists") can run, else why not."""
    net = "alex" if metric == "lpips-alex" else "vgg"
    head = {"lpips-alex": "lpips_models/alex.pth", "lpips-vgg": "lpips_models/vgg.pth",
            "dists": "dists_models/weights.pt"}[metric]
    if head_file(head) is None:
        return f"needs the torchmetrics wheel (its {head}); pip install torchmetrics"
    return find_backbone(net, backbone)[1]


def _load_head(relative: str) -> dict:
    import torch

    path = head_file(relative)
    if path is None:
        raise InputError(f"needs the torchmetrics wheel (its {relative}); pip install torchmetrics")
    return torch.load(path, map_location="cpu", weights_only=True)


def _tensor(image: ArrayLike, what: str):
    import torch

    x = as_unit_array(image, what)
    if x.shape[2] == 1:
        x = np.repeat(x, 3, axis=2)
    return torch.from_numpy(np.ascontiguousarray(np.clip(x, 0, 1).transpose(2, 0, 1)))[None]


class Lpips:
    """LPIPS with a given `features` module (torchvision layout) and the wheel's head, strict."""

    def __init__(self, net: str, features) -> None:
        import torch

        self.net, self.features = net, features.eval().requires_grad_(False)
        state = _load_head(f"lpips_models/{net}.pth")
        expected = {f"lin{k}.model.1.weight": (1, c, 1, 1) for k, c in enumerate(LPIPS_CHANNELS[net])}
        if {k: tuple(v.shape) for k, v in state.items()} != expected:
            raise InputError(f"the LPIPS {net} head has unexpected keys or shapes")
        self.heads = [state[f"lin{k}.model.1.weight"] for k in range(5)]
        self.shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
        self.scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)

    def _stages(self, x):
        x = (x * 2 - 1 - self.shift) / self.scale
        out, start = [], 0
        for end in LPIPS_STAGE_ENDS[self.net]:
            for i in range(start, end):
                x = self.features[i](x)
            out.append(x / (x.pow(2).sum(1, keepdim=True).sqrt() + 1e-10))
            start = end
        return out

    def __call__(self, test: ArrayLike, reference: ArrayLike) -> float:
        import torch
        import torch.nn.functional as F

        a, b = _tensor(test, "test image"), _tensor(reference, "reference image")
        _same_size(a, b)
        with torch.inference_mode():
            total = 0.0
            for fa, fb, w in zip(self._stages(a), self._stages(b), self.heads):
                total += float(F.conv2d((fa - fb) ** 2, w).mean())
        return total


class Dists:
    """DISTS with a given VGG16 `features` module and the wheel's alpha/beta, strict."""

    def __init__(self, features) -> None:
        import torch

        self.features = features.eval().requires_grad_(False)
        state = _load_head("dists_models/weights.pt")
        n = sum(DISTS_CHANNELS)
        if {k: tuple(v.shape) for k, v in state.items()} != {"alpha": (1, n, 1, 1), "beta": (1, n, 1, 1)}:
            raise InputError("the DISTS head has unexpected keys or shapes")
        w_sum = state["alpha"].sum() + state["beta"].sum()
        self.alpha = torch.split(state["alpha"] / w_sum, list(DISTS_CHANNELS), dim=1)
        self.beta = torch.split(state["beta"] / w_sum, list(DISTS_CHANNELS), dim=1)
        hann = torch.tensor([0.5, 1.0, 0.5])  # np.hanning(5)[1:-1]
        g = hann[:, None] * hann[None, :]
        self.window = g / g.sum()
        self.mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        self.std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def _l2pool(self, x):
        import torch.nn.functional as F

        c = x.shape[1]
        out = F.conv2d(x * x, self.window.expand(c, 1, 3, 3), stride=2, padding=1, groups=c)
        return (out + 1e-12).sqrt()

    def _stages(self, x):
        feats, h = [x], (x - self.mean) / self.std
        # VGG16 features: max pools at 4, 9, 16, 23 become L2 pools; stages end at 4, 9, 16, 23, 30.
        bounds = [(0, 4), (5, 9), (10, 16), (17, 23), (24, 30)]
        for k, (start, end) in enumerate(bounds):
            if k:
                h = self._l2pool(h)
            for i in range(start, end):
                h = self.features[i](h)
            feats.append(h)
        return feats

    def __call__(self, test: ArrayLike, reference: ArrayLike) -> float:
        import torch

        a, b = _tensor(test, "test image"), _tensor(reference, "reference image")
        _same_size(a, b)
        c1 = c2 = 1e-6
        with torch.inference_mode():
            d1 = d2 = 0.0
            for k, (fx, fy) in enumerate(zip(self._stages(a), self._stages(b))):
                mx, my = fx.mean([2, 3], keepdim=True), fy.mean([2, 3], keepdim=True)
                s1 = (2 * mx * my + c1) / (mx ** 2 + my ** 2 + c1)
                vx, vy = ((fx - mx) ** 2).mean([2, 3], keepdim=True), ((fy - my) ** 2).mean([2, 3], keepdim=True)
                cov = (fx * fy).mean([2, 3], keepdim=True) - mx * my
                s2 = (2 * cov + c2) / (vx + vy + c2)
                d1 += float((self.alpha[k] * s1).sum())
                d2 += float((self.beta[k] * s2).sum())
        return 1.0 - (d1 + d2)


def _same_size(a, b) -> None:
    if a.shape != b.shape:
        raise InputError(f"The test image is {a.shape[3]}x{a.shape[2]} but the reference is "
                         f"{b.shape[3]}x{b.shape[2]}; map it onto the reference grid first")


def lpips(test: ArrayLike, reference: ArrayLike, net: str = "alex", backbone: str | None = None) -> float:
    """LPIPS with the torchvision backbone found in the torch cache (or at `backbone`)."""
    path, reason = find_backbone(net, backbone)
    if path is None:
        raise InputError(f"LPIPS ({net}) {reason}")
    return Lpips(net, load_features(net, path))(test, reference)


def dists(test: ArrayLike, reference: ArrayLike, backbone: str | None = None) -> float:
    """DISTS with the torchvision VGG16 file found in the torch cache (or at `backbone`)."""
    path, reason = find_backbone("vgg", backbone)
    if path is None:
        raise InputError(f"DISTS {reason}")
    return Dists(load_features("vgg", path))(test, reference)
