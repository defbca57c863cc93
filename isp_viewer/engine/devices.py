"""Where a job runs and in which precision, with the reason in words.

Order of preference: CUDA, then Apple MPS, then CPU, unless the job asks for one. Half precision
(fp16/bf16) only on a GPU and only where the network's descriptor says it was validated; the CPU
always runs fp32. Probing is a plain function returning a `DeviceInfo`, so tests can pass a
fake one (e.g. "CUDA present") without a GPU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from isp_viewer.models.spec import ModelSpec

if TYPE_CHECKING:   # torch loads on first use: the window and `isp-viewer info` never need it
    import torch


@dataclass(frozen=True)
class DeviceInfo:
    cuda: bool = False
    mps: bool = False
    cuda_name: str = ""
    cuda_bf16: bool = False      # Ampere and newer
    mps_bf16: bool = False


DeviceProbe = Callable[[], DeviceInfo]


def probe_devices() -> DeviceInfo:
    import torch

    cuda = torch.cuda.is_available()
    name, bf16 = "", False
    if cuda:
        name = torch.cuda.get_device_name(0)
        bf16 = bool(torch.cuda.is_bf16_supported())
    mps_backend = getattr(torch.backends, "mps", None)
    mps = bool(mps_backend is not None and mps_backend.is_available())
    return DeviceInfo(cuda=cuda, mps=mps, cuda_name=name, cuda_bf16=bf16, mps_bf16=False)


CPU_ONLY = DeviceInfo()


@dataclass(frozen=True)
class Placement:
    device: str              # "cuda" | "mps" | "cpu"
    dtype: torch.dtype
    reason: str


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def choose_device(request: str, info: DeviceInfo) -> tuple[str, str]:
    """(device, reason) for a device request "auto" | "cuda" | "mps" | "cpu"."""
    if request == "cpu":
        return "cpu", "CPU requested"
    if request == "cuda":
        return ("cuda", "CUDA requested") if info.cuda else ("cpu", "CUDA requested but not available; CPU")
    if request == "mps":
        return ("mps", "MPS requested") if info.mps else ("cpu", "MPS requested but not available; CPU")
    if info.cuda:
        return "cuda", f"CUDA available ({info.cuda_name})" if info.cuda_name else "CUDA available"
    if info.mps:
        return "mps", "MPS available"
    return "cpu", "no GPU found; CPU"


def choose_precision(request: str, device: str, spec: ModelSpec, info: DeviceInfo) -> tuple[torch.dtype, str]:
    """(dtype, reason): fp16/bf16 only on a GPU and only where the descriptor allows it."""
    import torch

    if device == "cpu":
        if request in ("fp16", "bf16"):
            return torch.float32, f"{request} requested but the CPU runs fp32"
        return torch.float32, "fp32 on CPU"
    bf16_ok = info.cuda_bf16 if device == "cuda" else info.mps_bf16
    if request == "fp32":
        return torch.float32, "fp32 requested"
    if request == "fp16":
        if spec.fp16:
            return torch.float16, "fp16 requested and allowed by descriptor"
        return torch.float32, "fp16 requested but not validated for this network (descriptor); fp32"
    if request == "bf16":
        if not spec.bf16:
            return torch.float32, "bf16 requested but not validated for this network (descriptor); fp32"
        if not bf16_ok:
            return torch.float32, f"bf16 requested but {device.upper()} here lacks bf16; fp32"
        return torch.bfloat16, "bf16 requested and allowed by descriptor"
    if spec.fp16:
        return torch.float16, "fp16 allowed by descriptor"
    if spec.bf16 and bf16_ok:
        return torch.bfloat16, "bf16 allowed by descriptor"
    return torch.float32, "fp32 (descriptor allows no half precision)"


def choose_placement(spec: ModelSpec, device_request: str, precision_request: str, info: DeviceInfo) -> Placement:
    device, why_device = choose_device(device_request, info)
    dtype, why_dtype = choose_precision(precision_request, device, spec, info)
    return Placement(device, dtype, f"{why_device}; {why_dtype}")


def is_out_of_memory(exc: BaseException) -> bool:
    """torch's OutOfMemoryError, or a RuntimeError whose message says memory ran out (MPS, CPU)."""
    import torch

    oom_type = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError
    if isinstance(exc, oom_type):
        return True
    if isinstance(exc, RuntimeError):
        text = str(exc).lower()
        return "out of memory" in text or "can't allocate memory" in text
    return False


def release_memory(device: str) -> None:
    """Give cached GPU blocks back after an out-of-memory so the retry sees them."""
    import torch

    if device == "cuda" and torch.cuda.is_available():
        torch.cuda.empty_cache()
    elif device == "mps" and hasattr(torch, "mps") and getattr(torch.backends, "mps", None) \
            and torch.backends.mps.is_available():
        torch.mps.empty_cache()
