"""A frozen descriptor per network variant: what it does, what it eats, where its weights are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Task(str, Enum):
    DEMOSAICK = "demosaick"
    JOINT_DENOISE_DEMOSAICK = "joint denoise+demosaick"
    RAW_TO_RGB = "RAW→RGB ISP"
    RGB_TO_RAW = "RGB→RAW"
    DENOISE = "denoise"
    LOW_LIGHT = "low-light enhancement"
    SUPER_RESOLUTION = "super-resolution"


class InputKind(str, Enum):
    BAYER = "Bayer mosaic"          # HxW float32 [0,1], black-subtracted, white-normalised, with a 2x2 CFA
    XTRANS = "X-Trans mosaic"       # HxW float32 [0,1] with a 6x6 CFA
    LINEAR_RGB = "linear RGB"       # HxWx3 float32 [0,1], scene-linear
    SRGB = "sRGB"                   # HxWx3 float32 [0,1], display-referred


@dataclass(frozen=True)
class InputConvention:
    """What a RAW-domain network was trained on, so a camera RAW is given the same (RGB inputs are
    described by InputKind alone).

    white_balance: "camera" (the as-shot gains applied to the mosaic) or "none" (sensor values as
    measured). black_level: "subtract" ((v - black) / (white - black)) or "keep" (v / white: the
    network's training data kept the pedestal). colour_space: what the values are, in words.
    source: where these facts come from (NETWORKS.md section, upstream file), shown with the notes.
    Display-referred mosaics (simulated from an sRGB image) are given as they are, whatever this says.
    """

    white_balance: str = "camera"
    black_level: str = "subtract"
    colour_space: str = "linear camera RGB"
    source: str = ""

    def __post_init__(self) -> None:
        if self.white_balance not in ("camera", "none"):
            raise ValueError(f"white_balance must be 'camera' or 'none', not {self.white_balance!r}")
        if self.black_level not in ("subtract", "keep"):
            raise ValueError(f"black_level must be 'subtract' or 'keep', not {self.black_level!r}")

    @property
    def as_developed(self) -> bool:
        """True when the network eats what `io.develop` does: black subtracted, camera white balance."""
        return self.white_balance == "camera" and self.black_level == "subtract"

    def describe(self) -> str:
        wb = "camera white balance" if self.white_balance == "camera" else "no white balance"
        black = "black subtracted" if self.black_level == "subtract" else "black level kept"
        return f"{self.colour_space}, {wb}, {black}, white-normalised" + (f" ({self.source})" if self.source else "")


# Demosaickers trained on mosaics of white-balanced photos; also the convention of networks that do not say.
WHITE_BALANCED = InputConvention()


@dataclass(frozen=True)
class WeightFile:
    """A checkpoint the network accepts: file names users drop in weights/, optional sha256."""

    names: tuple[str, ...]
    sha256: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Companion:
    """A second network a spec needs at run time (CycleISP RAW→RGB's colour branch).

    It is built with `build`, loaded strictly from `weights` like the main one, and passed to
    infer as the keyword `option`.
    """

    option: str
    build: Callable[[], Any]
    weights: WeightFile


@dataclass(frozen=True)
class ModelSpec:
    id: str
    name: str
    task: Task
    input_kind: InputKind
    build: Callable[[], Any]             # returns a torch.nn.Module with the manifest's state_dict
    infer: Callable[..., Any]            # infer(net, x, *, cfa=None, device, dtype, **options) -> np.ndarray
    manifest: str                        # file name under reference/manifests/
    output_scale: int = 1
    size_multiple: int = 1               # input H and W are padded/cropped to this multiple inside infer
    min_size: int = 1                    # smallest input side infer accepts
    tiling_safe: bool = True
    tile_overlap: int = 32               # input pixels of context each tile needs on every side
    tile_align: int = 2                  # tile origins are multiples of this (CFA phase)
    # infer takes context=(top, bottom, left, right): real input pixels at the tile's sides, where it
    # does not pad and returns no output (the engine's tiles already carry tile_overlap of context)
    takes_context: bool = False
    # fp32 working memory per pixel of a tile, at its peak (bench/tile_memory.py measures it; the
    # engine sizes tiles by it, engine/memory_budget.py). 0: unknown, the engine's default tile
    peak_bytes_per_pixel: int = 0
    fp16: bool = False                   # measured by tests/models/test_precision.py
    bf16: bool = False
    weights: tuple[WeightFile, ...] = ()
    packaged_weights: str | None = None  # "demosaicnet:bayer.pth": shipped inside an installed wheel
    paper: str = ""
    license: str = ""
    non_commercial: bool = False
    reported_metrics: str = ""
    notes: str = ""
    options: dict = field(default_factory=dict)  # default keyword options for infer
    companions: tuple[Companion, ...] = ()
    needs_reference: bool = False        # infer takes reference_rgb: a clean sRGB of the same scene
    reports_progress: bool = False       # infer takes progress(fraction): whole-frame runs report within a pass
    input_convention: InputConvention = WHITE_BALANCED   # RAW inputs: white balance, black level, colour space
