"""How an image was made: one frozen value per kind of method.

The same values are used by the session (what each pane shows), the session file (.ispv), the
export provider, the CLI and the window, so a method is described once:

- `FileMethod`       an input file shown as it is (an image, or the demo's / a data set's ground truth)
- `LibRawOptions`    LibRaw's own rendering of a camera RAW (demosaic, white balance, curve, bits)
- `ClassicalMethod`  a classical demosaicker on a CFA pattern
- `NetworkMethod`    a registered network with its weights, device, precision and tiling
- `SimulatedLowRes`  a bicubic low-resolution copy of a ground truth (the SR papers' input)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from isp_viewer.core.errors import InputError

DEMOSAIC_ALGORITHMS = ("LINEAR", "VNG", "PPG", "AHD", "DCB", "DHT", "AAHD")
WHITE_BALANCES = ("camera", "auto", "none")
LIBRAW_OUTPUTS = ("srgb", "linear")
PRECISIONS = ("", "fp32", "fp16", "bf16")   # "" = the engine's choice for the device


@dataclass(frozen=True)
class FileMethod:
    """An input shown as it is. input_id: the session file's input ("" while only in the window);
    ground_truth: this image is the truth the others are measured against (demo, paired data)."""

    input_id: str = ""
    ground_truth: bool = False
    kind = "input"

    @property
    def label(self) -> str:
        return "ground truth" if self.ground_truth else "file"


@dataclass(frozen=True)
class LibRawOptions:
    """A LibRaw rendering: demosaic algorithm, white balance, output curve and bit depth.

    output is "srgb" or "linear"; "sRGB" (the spelling of early session files) is accepted and
    stored as "srgb", so both spellings compare equal."""

    demosaic: str = "AHD"
    wb: str = "camera"
    output: str = "srgb"
    bits: int = 16
    half_size: bool = False
    kind = "libraw"

    def __post_init__(self) -> None:
        object.__setattr__(self, "demosaic", str(self.demosaic).upper())
        object.__setattr__(self, "output", str(self.output).lower())
        if self.demosaic not in DEMOSAIC_ALGORITHMS:
            raise InputError(
                f"unknown demosaic algorithm {self.demosaic!r}; choose one of {', '.join(DEMOSAIC_ALGORITHMS)}")
        if self.wb not in WHITE_BALANCES:
            raise InputError(f"unknown white balance {self.wb!r}; choose camera, auto or none")
        if self.output not in LIBRAW_OUTPUTS:
            raise InputError(f"unknown output {self.output!r}; choose srgb or linear")
        if self.bits not in (8, 16):
            raise InputError(f"bits must be 8 or 16, not {self.bits}")

    @property
    def label(self) -> str:
        return f"LibRaw {self.demosaic} · WB {self.wb} · {self.output} · {self.bits}-bit"

    @property
    def short_label(self) -> str:
        """What a legend needs: the algorithm, and only what differs from the default rendering."""
        extra = [x for x, default in ((f"WB {self.wb}", "WB camera"), (self.output, "srgb"),
                                      (f"{self.bits}-bit", "16-bit")) if x != default]
        return " · ".join([f"LibRaw {self.demosaic}", *extra])


DEFAULT_RENDER = LibRawOptions()


@dataclass(frozen=True)
class ClassicalMethod:
    """A classical demosaicker ("bilinear", "malvar", "menon", ...) on a 2x2 CFA pattern."""

    algorithm: str = "bilinear"
    cfa: str = "RGGB"
    kind = "classical"

    @property
    def label(self) -> str:
        return self.algorithm


@dataclass(frozen=True)
class NetworkMethod:
    """A registered network: model id, weights path (relative like inputs in a session file) and
    its sha256, and how it runs: device ("" = the engine's choice), precision, tile size (0 = whole
    frame) and overlap. `engine` keeps any further engine options as plain JSON values."""

    model_id: str
    weights_path: str = ""
    weights_sha256: str = ""
    engine: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    device: str = ""
    precision: str = ""
    tile: int = 0
    overlap: int = 0
    kind = "network"

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise InputError(f"unknown precision {self.precision!r}; choose fp32, fp16 or bf16")
        if self.tile < 0 or self.overlap < 0:
            raise InputError("tile size and overlap must be >= 0")

    @property
    def label(self) -> str:
        return self.model_id


@dataclass(frozen=True)
class SimulatedLowRes:
    """A bicubic x1/scale copy of a ground truth (MATLAB imresize), the input of SR networks."""

    scale: int = 4
    kind = "simulated_lr"

    @property
    def label(self) -> str:
        return f"bicubic ×1/{self.scale}"


Method = FileMethod | LibRawOptions | ClassicalMethod | NetworkMethod | SimulatedLowRes
METHOD_TYPES: dict[str, type] = {t.kind: t for t in (FileMethod, LibRawOptions, ClassicalMethod, NetworkMethod,
                                                     SimulatedLowRes)}


def is_ground_truth(method: Method | None) -> bool:
    return isinstance(method, FileMethod) and method.ground_truth


def same_result(a: Method | None, b: Method | None) -> bool:
    """Whether two methods make the same pixels from the same input (a second pane would duplicate)."""
    if a is None or b is None or type(a) is not type(b):
        return False
    if isinstance(a, NetworkMethod) and isinstance(b, NetworkMethod):
        return (a.model_id, a.weights_path or a.weights_sha256) == (b.model_id, b.weights_path or b.weights_sha256)
    return a == b
