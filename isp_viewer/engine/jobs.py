"""The values that cross the engine's thread boundary: `Job` in, `Progress` while running, `Result` out.

Image convention at this boundary (the output of `models.adapters.prepare_input`):
- a RAW mosaic is HxW float32 in [0, 1] (black-subtracted, white-normalised) with a CFA string
  (4 letters for a 2x2 Bayer cell, 36 for a 6x6 X-Trans cell, read row-major from pixel (0, 0));
- an RGB image is HxWx3 float32 in [0, 1] with cfa None.
Outputs are float32 on the input's grid times the network's output scale.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

DEVICE_REQUESTS = ("auto", "cuda", "mps", "cpu")
PRECISION_REQUESTS = ("auto", "fp32", "fp16", "bf16")

Options = tuple[tuple[str, Any], ...]


def hash_input(x: np.ndarray, cfa: str | None = None) -> str:
    """sha256 of an input array's shape, dtype, CFA and pixels: the cache's notion of "same input"."""
    arr = np.ascontiguousarray(x)
    h = hashlib.sha256()
    h.update(f"{arr.shape}|{arr.dtype.str}|{cfa or ''}|".encode())
    h.update(arr.data.cast("B"))
    return h.hexdigest()


def freeze_options(options: Mapping[str, Any] | Options | None) -> Options:
    """Options as a tuple of (name, value) pairs sorted by name, so that equal dicts give equal jobs."""
    if not options:
        return ()
    items = options.items() if isinstance(options, Mapping) else options
    return tuple(sorted(((str(k), v) for k, v in items), key=lambda kv: kv[0]))


def fingerprint(value: Any) -> Any:
    """A JSON-able stand-in for an option value that is equal exactly when the value is.

    Arrays, tensors and modules (e.g. CycleISP's `reference_rgb` and `ccm_net`) are replaced by
    the sha256 of their contents. Raises TypeError for values whose identity cannot be stated
    (the engine then runs the job without caching it).
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return repr(value)  # repr round-trips exactly, and also covers nan/inf, which JSON does not
    if isinstance(value, (tuple, list)):
        return [fingerprint(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): fingerprint(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, np.ndarray):
        return {"ndarray": hash_input(value), "dtype": value.dtype.str}
    torch = sys.modules.get("torch")   # a tensor or module exists only once torch is loaded
    if torch is not None and isinstance(value, torch.Tensor):
        return {"tensor": hash_input(value.detach().cpu().contiguous().numpy())}
    if torch is not None and isinstance(value, torch.nn.Module):
        h = hashlib.sha256(type(value).__qualname__.encode())
        for name, tensor in value.state_dict().items():
            h.update(name.encode())
            h.update(hash_input(tensor.detach().cpu().contiguous().numpy()).encode())
        return {"module": h.hexdigest()}
    raise TypeError(f"option value of type {type(value).__name__} has no stable fingerprint")


def options_fingerprint(options: Options) -> str:
    return json.dumps([[k, fingerprint(v)] for k, v in options], sort_keys=True)


@dataclass(frozen=True, eq=False)
class Job:
    """One network run on one input, as submitted to `Engine.submit`.

    x: the network input (see module docstring), made read-only here; input_hash: its content
    hash (`hash_input`). weights: a checkpoint path, a label such as "crc32-fill", or None for the
    registry's default; weights_sha256: the checkpoint's sha256 (empty: the result is not cached).
    options: keyword options for spec.infer, frozen as sorted (name, value) pairs; they override
    spec.options. device: "auto" | "cuda" | "mps" | "cpu"; precision: "auto" | "fp32" | "fp16" |
    "bf16" (half precision only where the descriptor allows it, on a GPU). tile_size: core tile
    side in input pixels (None: the device's default). channel + generation: a newer generation
    on the same channel supersedes older ones (their futures are cancelled). max_whole_frame_pixels:
    networks that cannot be tiled run downscaled (with a note) above this many input pixels.
    """

    x: np.ndarray
    input_hash: str
    spec_id: str
    cfa: str | None = None
    weights: str | None = None
    weights_sha256: str = ""
    options: Options = ()
    device: str = "auto"
    precision: str = "auto"
    tile_size: int | None = None
    channel: str = ""
    generation: int = 0
    max_whole_frame_pixels: int | None = None

    def __post_init__(self) -> None:
        arr = np.asarray(self.x)
        if arr.dtype != np.float32:
            arr = arr.astype(np.float32)
        if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)):
            raise ValueError(f"Job input must be an HxW mosaic or HxWx3 RGB, got shape {arr.shape}")
        if arr.ndim == 2 and not self.cfa:
            raise ValueError("a mosaic input needs its CFA pattern")
        view = arr.view()
        view.setflags(write=False)  # a view: no copy, but the engine's workers cannot write through it
        object.__setattr__(self, "x", view)
        object.__setattr__(self, "options", freeze_options(self.options))
        if self.device not in DEVICE_REQUESTS:
            raise ValueError(f"device must be one of {DEVICE_REQUESTS}, got {self.device!r}")
        if self.precision not in PRECISION_REQUESTS:
            raise ValueError(f"precision must be one of {PRECISION_REQUESTS}, got {self.precision!r}")
        if self.tile_size is not None and self.tile_size < 1:
            raise ValueError(f"tile_size must be positive, got {self.tile_size}")

    @classmethod
    def create(cls, x: np.ndarray, spec_id: str, *, cfa: str | None = None, weights: str | Path | None = None,
               weights_sha256: str | None = None, options: Mapping[str, Any] | None = None, **fields: Any) -> Job:
        """A Job with its input hash computed, and the sha256 of `weights` when it names a file."""
        if weights_sha256 is None:
            weights_sha256 = ""
            if weights is not None and Path(weights).is_file():
                from isp_viewer.models.loading import sha256_of_file

                weights_sha256 = sha256_of_file(weights)
        x = np.asarray(x, dtype=np.float32)
        return cls(x=x, input_hash=hash_input(x, cfa), spec_id=spec_id, cfa=cfa,
                   weights=None if weights is None else str(weights), weights_sha256=weights_sha256,
                   options=freeze_options(options), **fields)

    @classmethod
    def from_source(cls, spec: Any, source: Any, *, weights: str | Path | None = None, wb: str | None = None,
                    **fields: Any) -> Job:
        """A Job for `spec` (a ModelSpec) on what the user opened (a RawMosaic or an Image):
        the input as `models.adapters.prepare_input` makes it (ModelError when it cannot work),
        and the weights the registry finds when none are given."""
        from isp_viewer.models.adapters import prepare_input
        from isp_viewer.models.registry import find_weights

        x, cfa = prepare_input(spec, source, wb)
        if weights is None:
            weights = find_weights(spec)
        return cls.create(x, spec.id, cfa=cfa, weights=weights, **fields)

    @property
    def option_dict(self) -> dict[str, Any]:
        return dict(self.options)


@dataclass(frozen=True)
class Progress:
    """Reported from the worker thread: tiles done of total (total grows when tiles are split
    after an out-of-memory), the fraction of the image finished (monotone), seconds elapsed and
    an estimate of the seconds remaining (None before the first tile)."""

    done: int
    total: int
    fraction: float
    elapsed: float
    remaining: float | None
    tile_size: int


@dataclass(frozen=True, eq=False)
class Result:
    """A finished run. output: float32 on the input grid x output scale (HxWx3, or HxW for
    networks whose output is a mosaic). device/dtype: where it ran ("cuda", "float16"); reason:
    why that placement; seconds: wall time of this run (of the cache read for a hit); tiles and
    tile_size: as finally run (1 and the larger side for whole-frame runs); notes: what the user
    should know (whole-frame by design, tiles halved, CPU fallback, downscaled, cached)."""

    output: np.ndarray
    device: str
    dtype: str
    reason: str
    seconds: float
    tiles: int
    tile_size: int
    notes: tuple[str, ...] = ()
    from_cache: bool = False
    spec_id: str = ""
    input_hash: str = ""
    channel: str = ""
    generation: int = 0
    cache_key: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
