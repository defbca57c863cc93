"""Preparing and describing network runs for a front end (no Qt): which networks can take an
input, strict weight checks with a readable reason, one-line messages and result labels.
The window's model panel (ui.model_panel) uses these off the GUI thread."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from isp_viewer.core.errors import IspViewerError, ModelError, WeightsError
from isp_viewer.core.image import Image
from isp_viewer.engine import Result, hash_input
from isp_viewer.io.raw import RawMosaic
from isp_viewer.models.adapters import prepare_input
from isp_viewer.models.loading import sha256_of_file
from isp_viewer.models.spec import InputKind, ModelSpec

Source = Any  # RawMosaic | Image (see models.adapters.Source)
WeightsFinder = Callable[[ModelSpec], "Path | None"]
WeightsChecker = Callable[[ModelSpec, str], None]

DEVICES = (("Auto", "auto"), ("CPU", "cpu"), ("CUDA", "cuda"), ("MPS", "mps"))
PRECISIONS = (("Auto", "auto"), ("fp32", "fp32"), ("fp16", "fp16"), ("bf16", "bf16"))
DTYPE_SHORT = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}
NO_PUBLIC_WEIGHTS = "no public weights"
GREY = "color: #808080;"
RED = "color: #c0392b;"
CHANNEL_PREFIX = "model-panel/"
ELAPSED_TICK_MS = 250
REASON_CHARS = 160



@dataclass(frozen=True, eq=False)
class ModelResult:
    """One finished network run, as handed to the owner on the GUI thread.

    image: the output on the reference grid (`finish_output`), labelled
    "network · weights file · device · dtype · seconds"; result: the engine's `Result` (raw output,
    placement reason, tiles, notes); weights: the checkpoint path that ran; source: the input.
    """

    model_id: str
    image: Image
    result: Result
    weights: str
    label: str
    source: Any = None


def one_line(exc: BaseException) -> str:
    """A message for a row: our errors are already one user-facing line; others get their type."""
    if isinstance(exc, IspViewerError):
        return str(exc)
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def elide(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def short_reason(spec: ModelSpec, message: str) -> str:
    """The reason without the network's name in front ("needs an RGB image; ...")."""
    for prefix in (f"{spec.name} ", f"{spec.id}: "):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message


def prepare_inputs(specs: Sequence[ModelSpec], source: Source, *, arrays: bool) -> dict[str, Any]:
    """spec id -> (x, cfa, input_hash) (arrays=True), True (arrays=False), or the ModelError.

    prepare_input's outcome depends only on the spec's input kind, input convention (white balance,
    black level) and minimum size (the name only appears in messages), so each kind and convention
    is prepared once: a spec whose min_size is no larger than one that already succeeded for them
    reuses that success instead of recomputing a full-frame array (seconds on a large RAW).
    """
    out: dict[str, Any] = {}
    done: dict[tuple[InputKind, str, str], tuple[int, Any]] = {}   # -> (min_size that succeeded, value)
    for spec in sorted(specs, key=lambda s: s.min_size):
        same = (spec.input_kind, spec.input_convention.white_balance, spec.input_convention.black_level)
        known = done.get(same)
        if known is not None and spec.min_size <= known[0]:
            out[spec.id] = known[1]
            continue
        try:
            x, cfa = prepare_input(spec, source)
        except (IspViewerError, ValueError) as exc:
            out[spec.id] = exc
            continue
        value = (x, cfa, hash_input(x, cfa)) if arrays else True
        done[same] = (spec.min_size, value)
        out[spec.id] = value
    return out


def check_weights_strictly(spec: ModelSpec, path: str) -> None:
    """Load `path` into spec's network strictly; raise WeightsError with one line if it does not fit,
    naming the networks the file does fit when there are any."""
    from isp_viewer.models.registry import detect_checkpoint, load_network

    try:
        load_network(spec, path)
    except (WeightsError, ModelError) as exc:
        try:
            fits = [s.name for s in detect_checkpoint(path) if s.id != spec.id]
        except IspViewerError:
            fits = []
        if not fits:
            raise
        # What the file is comes first: the key-by-key details are long and get elided in the row.
        raise WeightsError(f"{Path(path).name} fits {' / '.join(fits)}, not {spec.name}: {exc}") from None


def missing_weights_text(spec: ModelSpec) -> str:
    notes = " ".join([spec.notes] + [wf.note for wf in spec.weights]).lower()
    if NO_PUBLIC_WEIGHTS in notes:
        return "no public weights — load your own"
    names = [n for wf in spec.weights for n in wf.names]
    if not names:
        return "no weights: load a checkpoint"
    return f"no weights: put {' / '.join(names)} in weights/"


def short_dtype(dtype: str) -> str:
    return DTYPE_SHORT.get(dtype, dtype)


def network_label(name: str, weights: str, device: str, dtype: str, seconds: float, from_cache: bool = False,
                  options: dict | None = None) -> str:
    """"network (user options) · weights file · device · dtype · seconds" (plus "cached" for a cache
    hit), e.g. "Kokkinos MMNet (Bayer, noisy) (σ=5/255) · model_best.pth · cpu · fp32 · 3.1 s"."""
    from isp_viewer.models.adapters import option_label

    parts = [option_label(name, options or {}), Path(weights).name if weights else "default weights",
             device, short_dtype(dtype), f"{seconds:.1f} s"]
    if from_cache:
        parts.append("cached")
    return " · ".join(parts)


def result_label(spec: ModelSpec, weights: str, result: Result, options: dict | None = None) -> str:
    """The Run dock's title for an engine result (network_label)."""
    return network_label(spec.name, weights, result.device, result.dtype, result.seconds, result.from_cache, options)


def describe_source(source: Source | None) -> str:
    if source is None:
        return "No input open"
    if isinstance(source, RawMosaic):
        name = Path(source.path).name or "mosaic"
        kind = "X-Trans" if source.is_xtrans else f"Bayer {source.cfa}"
        return f"Input: {name} · {kind} mosaic · {source.width}×{source.height}"
    if isinstance(source, Image):
        name = Path(source.source).name if source.source else (source.label or "image")
        kind = "linear RGB" if source.linear else "sRGB"
        return f"Input: {name} · {kind} image · {source.width}×{source.height}"
    return f"Input: {type(source).__name__}"



def weights_sha256(path: str) -> str:
    """sha256 of a checkpoint file (models.loading remembers it per size and mtime); "" for a
    label such as "crc32-fill" or a loader-specific name, which the engine does not cache by."""
    return sha256_of_file(path) if Path(path).is_file() else ""
