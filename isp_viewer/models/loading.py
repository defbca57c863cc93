"""Safe checkpoint loading.

Checkpoints are untrusted files: `.safetensors` is read with safetensors, everything else with
`torch.load(weights_only=True)`, which refuses pickled objects other than tensors and plain
containers. Container dicts and wrapper prefixes are unwrapped; loading is always strict and a
mismatch is reported as one readable message.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import warnings
import zipfile
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from isp_viewer.core.errors import WeightsError

if TYPE_CHECKING:   # torch loads when a checkpoint is read; hashing a file (sessions) needs none
    import torch
    from torch import nn

WEIGHT_SUFFIXES = (".pth", ".pt", ".pth.tar", ".ckpt", ".safetensors", ".tar", ".bin")
CONTAINER_KEYS = ("state_dict", "params_ema", "params", "model", "net", "generator", "netG")
PREFIXES = ("module.", "_orig_mod.")


def sha256_of_file(path: str | Path, verify: bool = False) -> str:
    """Hex sha256 of a file's bytes, remembered while its size and mtime stay the same
    (sessions and weights are re-hashed often: on every autosave, every network load).
    verify=True always reads the file: for checks that must notice a same-size rewrite even
    on file systems with coarse timestamps."""
    if verify:
        return _sha256_cached.__wrapped__(str(path), 0, 0)
    st = os.stat(path)
    return _sha256_cached(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=256)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def read_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a checkpoint file, unwrapped to a flat state_dict; never unpickles objects."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: weight file not found")
    if path.stat().st_size == 0:
        raise WeightsError(f"{path.name}: weight file is empty")
    if path.name.endswith(".safetensors"):
        raw: object = _read_safetensors(path)
    else:
        raw = _read_torch(path)
    return strip_prefixes(unwrap_container(raw, path.name))


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    import safetensors
    from safetensors.torch import load_file

    errors = (getattr(safetensors, "SafetensorError", ValueError), OSError, ValueError)
    try:
        return load_file(str(path), device="cpu")
    except errors as exc:
        raise WeightsError(f"{path.name}: not a readable safetensors file ({exc})") from None


def _read_torch(path: Path) -> object:
    import torch

    try:
        with warnings.catch_warnings():  # e.g. "pickle protocol 4": informational, not for users
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        unsafe = re.search(r"unsupported GLOBAL ([\w.]+)|Unsupported global: GLOBAL ([\w.]+)", str(exc))
        if unsafe:
            what = unsafe.group(1) or unsafe.group(2)
            raise WeightsError(
                f"{path.name}: refused to load: the file asks to run Python code ({what}), not just hold tensors"
            ) from None
        detail = re.search(r"WeightsUnpickler error:\s*(.+)", str(exc))
        reason = detail.group(1).strip() if detail else "not a tensor archive"
        raise WeightsError(f"{path.name}: not a readable PyTorch checkpoint ({reason})") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, KeyError) as exc:
        raise WeightsError(f"{path.name}: not a readable PyTorch checkpoint ({_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[-1][:160] if lines else type(exc).__name__

def unwrap_container(obj: object, name: str = "checkpoint") -> dict[str, torch.Tensor]:
    """Find the state_dict inside common containers ({'state_dict': ...}, {'params_ema': ...}, ...)."""
    import torch

    # Some releases save a list [state_dict, hyper-parameters...] (Kokkinos: [sd, max_iter, depth]).
    if isinstance(obj, (list, tuple)) and obj and isinstance(obj[0], Mapping):
        obj = obj[0]
    for _ in range(4):
        if not isinstance(obj, Mapping):
            break
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return dict(obj)
        inner = next((obj[k] for k in CONTAINER_KEYS if k in obj and isinstance(obj[k], Mapping)), None)
        if inner is None:
            break
        obj = inner
    if isinstance(obj, Mapping):
        tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
        if tensors:
            return tensors
    raise WeightsError(f"{name}: no state_dict of tensors found in the checkpoint")


def strip_prefixes(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drop wrapper prefixes (`module.` from DataParallel, `_orig_mod.` from torch.compile)."""
    out = dict(sd)
    changed = True
    while changed and out:
        changed = False
        for prefix in PREFIXES:
            if all(k.startswith(prefix) for k in out):
                out = {k[len(prefix):]: v for k, v in out.items()}
                changed = True
    return out


def describe_mismatch(expected: Mapping[str, tuple], got: Mapping[str, torch.Tensor], limit: int = 6) -> str:
    """One line listing missing, unexpected and wrongly shaped keys ('' when they match)."""
    missing = [k for k in expected if k not in got]
    unexpected = [k for k in got if k not in expected]
    shaped = [f"{k} {tuple(got[k].shape)}≠{tuple(expected[k])}" for k in expected
              if k in got and tuple(got[k].shape) != tuple(expected[k])]
    parts = []
    for label, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", shaped)):
        if items:
            more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
            parts.append(f"{len(items)} {label}: {', '.join(items[:limit])}{more}")
    return "; ".join(parts)


def load_strict(module: nn.Module, state_dict: Mapping[str, torch.Tensor], source: str = "checkpoint") -> nn.Module:
    """Load with strict=True after checking keys and shapes, so a mismatch reads well."""
    import torch

    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    # Pre-0.4.1 files have no BatchNorm counters; torch fills them in (strict load passes).
    got = dict(state_dict)
    for k in expected:
        if k.endswith("num_batches_tracked") and k not in got:
            got[k] = torch.zeros((), dtype=torch.long)
    problem = describe_mismatch(expected, got)
    if problem:
        raise WeightsError(f"{source} does not fit {type(module).__name__}: {problem}")
    module.load_state_dict(got, strict=True)
    return module
