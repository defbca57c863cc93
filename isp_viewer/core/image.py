"""The image value every module exchanges.

Convention: `data` is HxWxC float32 (C = 3, or 1 for grey), C-contiguous, normally in [0, 1].
`linear` says whether values are scene-linear (need exposure/gamma for display) or
display-referred sRGB.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class Image:
    data: np.ndarray
    linear: bool = False
    color_space: str = "sRGB"
    label: str = ""
    source: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        arr = np.asarray(self.data)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        if arr.ndim != 3 or arr.shape[2] not in (1, 3):
            raise ValueError(f"Image data must be HxWx1 or HxWx3, got shape {arr.shape}")
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        arr.setflags(write=False)
        object.__setattr__(self, "data", arr)

    @property
    def height(self) -> int:
        return int(self.data.shape[0])

    @property
    def width(self) -> int:
        return int(self.data.shape[1])

    @property
    def channels(self) -> int:
        return int(self.data.shape[2])

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.data.shape)

    def content_hash(self) -> str:
        """sha256 of shape and pixels: a stable key for caches."""
        h = hashlib.sha256()
        h.update(repr(self.data.shape).encode())
        h.update(self.data.tobytes())
        return h.hexdigest()

    def with_data(self, data: np.ndarray, **changes: Any) -> Image:
        """A copy with other pixels (and optionally other fields)."""
        fields: dict[str, Any] = dict(linear=self.linear, color_space=self.color_space, label=self.label,
                                      source=self.source, meta=dict(self.meta))
        fields.update(changes)
        return Image(data, **fields)

    def rgb(self) -> np.ndarray:
        """HxWx3 view (grey images are repeated across channels)."""
        return self.data if self.channels == 3 else np.repeat(self.data, 3, axis=2)

    def to_display(self, exposure: float = 0.0, gamma: float | None = None) -> np.ndarray:
        """uint8 HxWx3 for screens: exposure in stops, sRGB encoding for linear images."""
        x = self.rgb() * np.float32(2.0 ** exposure)
        if gamma is not None:
            x = np.power(np.clip(x, 0, 1), np.float32(1.0 / gamma))
        elif self.linear:
            x = linear_to_srgb(x)
        return (np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8)


def as_unit_array(x: Image | np.ndarray, what: str = "image") -> np.ndarray:
    """HxWxC float32 (C = 1 or 3) in [0, 1] units from an Image or an ndarray.

    Float arrays are taken as they are ([0, 1] by the app's convention); uint8/uint16 arrays are
    divided by their full scale. The one place where metrics and analysis read images.
    """
    from isp_viewer.core.errors import InputError

    if isinstance(x, Image):
        return x.data
    arr = np.asarray(x)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3):
        raise InputError(f"The {what} must be HxW or HxWx3, got shape {arr.shape}")
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / np.float32(255)
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) / np.float32(65535)
    if not np.issubdtype(arr.dtype, np.floating):
        raise InputError(f"The {what} has dtype {arr.dtype}; use float in [0, 1], uint8 or uint16")
    return arr.astype(np.float32, copy=False)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1 transfer function (float in, float out)."""
    x = np.clip(x, 0, None).astype(np.float32, copy=False)
    encoded = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4, dtype=np.float32) - 0.055)
    return encoded.astype(np.float32)


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0, None).astype(np.float32, copy=False)
    return np.where(x <= 0.04045, x / 12.92, np.power((x + 0.055) / 1.055, 2.4, dtype=np.float32)).astype(np.float32)
