"""ImageNet feature backbones for LPIPS and DISTS, written here (torchvision does not import here).

The modules carry torchvision's state-dict key names (`features.N.weight`, ...) so its published
files load strictly. The files themselves are never downloaded: they are looked up in the user's
torch cache ($TORCH_HOME/hub/checkpoints, default ~/.cache/torch) under torchvision's names, or
given as a path, checked against the sha256 prefix torchvision puts in the name, and read with
torch.load(weights_only=True). The classifier weights in those files are checked for key and
shape but not kept (the metrics use the convolutional features only).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from isp_viewer.core.errors import InputError

BACKBONE_FILES = {"alex": "alexnet-owt-7be5be79.pth", "vgg": "vgg16-397923af.pth"}
# (out_channels, kernel, stride, padding) of the convolutions, "M" a max pool; as torchvision.
_ALEX: list[Any] = [(64, 11, 4, 2), "R", "M3", (192, 5, 1, 2), "R", "M3", (384, 3, 1, 1), "R",
         (256, 3, 1, 1), "R", (256, 3, 1, 1), "R", "M3"]
_VGG16: list[Any] = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
_CLASSIFIERS = {
    "alex": {"classifier.1": (4096, 9216), "classifier.4": (4096, 4096), "classifier.6": (1000, 4096)},
    "vgg": {"classifier.0": (4096, 25088), "classifier.3": (4096, 4096), "classifier.6": (1000, 4096)},
}


def torch_cache_dir() -> Path:
    """torch.hub's checkpoint folder: $TORCH_HOME/hub/checkpoints, else $XDG_CACHE_HOME/torch/..."""
    home = os.environ.get("TORCH_HOME")
    if not home:
        home = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "torch")
    return Path(home) / "hub" / "checkpoints"


def find_backbone(net: str, path: str | os.PathLike | None = None) -> tuple[Path | None, str]:
    """(file, "") when usable, else (None, reason): the given path or the cached torchvision file."""
    name = BACKBONE_FILES[net]
    candidate = Path(path) if path else torch_cache_dir() / name
    if not candidate.is_file():
        where = str(candidate) if path else f"{torch_cache_dir()}/{name}"
        return None, (f"needs the torchvision ImageNet weights {name} (not downloaded at run time): "
                      f"none at {where}; put the file there or pass its path")
    return candidate, ""


def check_hash_prefix(path: Path) -> None:
    """torchvision file names end in -<first 8+ hex of sha256>.pth: check the file against it."""
    m = re.search(r"-([0-9a-f]{8,})\.pth$", path.name)
    if not m:
        return
    from isp_viewer.models.loading import sha256_of_file  # the project's (remembered per size and mtime)

    digest = sha256_of_file(path)
    if not digest.startswith(m.group(1)):
        raise InputError(f"{path.name}: sha256 {digest[:12]}... does not match the {m.group(1)} in its name")


def build_features(net: str):
    """torch.nn.Sequential `features` of AlexNet or VGG16 with torchvision's layer indices."""
    import torch.nn as nn

    layers: list = []
    c = 3
    if net == "alex":
        for item in _ALEX:
            if item == "R":
                layers.append(nn.ReLU(inplace=False))
            elif item == "M3":
                layers.append(nn.MaxPool2d(3, 2))
            else:
                out, k, s, p = item
                layers.append(nn.Conv2d(c, out, k, s, p))
                c = out
    elif net == "vgg":
        for item in _VGG16:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c, item, 3, 1, 1), nn.ReLU(inplace=False)]
                c = item
    else:
        raise ValueError(f"unknown backbone {net!r}")
    return nn.Sequential(*layers)


def load_features(net: str, path: Path):
    """The `features` module with the file's weights, after a strict key and shape check."""
    import torch

    check_hash_prefix(path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise InputError(f"{path.name}: not a state dict")
    features = build_features(net)
    expected = {f"features.{k}": tuple(v.shape) for k, v in features.state_dict().items()}
    for prefix, (out, inp) in _CLASSIFIERS[net].items():
        expected[f"{prefix}.weight"], expected[f"{prefix}.bias"] = (out, inp), (out,)
    got = {k: tuple(v.shape) for k, v in state.items()}
    if got != expected:
        missing = sorted(set(expected) - set(got))[:3]
        extra = sorted(set(got) - set(expected))[:3]
        wrong = sorted(k for k in set(got) & set(expected) if got[k] != expected[k])[:3]
        raise InputError(f"{path.name} is not torchvision's {net} file: missing {missing}, "
                         f"unexpected {extra}, wrong shapes {wrong}")
    features.load_state_dict({k[len("features."):]: v for k, v in state.items() if k.startswith("features.")},
                             strict=True)
    return features.eval().requires_grad_(False)
