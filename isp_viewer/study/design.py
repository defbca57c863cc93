"""What a study shows and how: crops x methods, protocol, repetitions, and each observer's order.

A `StudyDesign` is a frozen value that travels between machines as JSON (see `package.py`), so
that several observers on several computers rate the same study and their ratings merge.
The pixels are not part of the design: when a session runs, an image provider
`(method_id, region) -> HxWx3 float32 in [0, 1], display-referred` supplies them.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.core.region import Region
from isp_viewer.study.crops import Crop

STUDY_FORMAT = "isp-viewer-study"
STUDY_FORMAT_VERSION = 1

# Image provider contract: method id and a region on the reference grid in, HxWx3 float32
# display-referred pixels in [0, 1] out (H, W = region.h, region.w).
ImageProvider = Callable[[str, Region], np.ndarray]


class Protocol(str, Enum):
    ACR = "ACR"          # absolute category rating, 5 Excellent .. 1 Bad (ITU-T P.910)
    DCR = "DCR"          # degradation category rating / DSIS against a shown reference (ITU-R BT.500)
    PAIRWISE = "2AFC"    # two-alternative forced choice: which of A and B looks better


class ReferenceMode(str, Enum):
    NONE = "none"        # no reference involved
    HIDDEN = "hidden"    # the reference is rated as one more, unnamed, condition (ACR-HR)
    SHOWN = "shown"      # the reference is displayed next to every stimulus (required by DCR)


ACR_LABELS: dict[int, str] = {5: "Excellent", 4: "Good", 3: "Fair", 2: "Poor", 1: "Bad"}
DCR_LABELS: dict[int, str] = {5: "Imperceptible", 4: "Perceptible but not annoying", 3: "Slightly annoying",
                              2: "Annoying", 1: "Very annoying"}


def scale_labels(protocol: Protocol) -> dict[int, str]:
    """The 5-point category labels of a rating protocol (empty for pairwise)."""
    return {Protocol.ACR: ACR_LABELS, Protocol.DCR: DCR_LABELS}.get(Protocol(protocol), {})


@dataclass(frozen=True)
class Method:
    """A condition to rate: `id` is what the image provider understands, `label` what a paper shows."""

    id: str
    label: str


@dataclass(frozen=True)
class TrainingItem:
    """A practice trial shown before the test; never analysed. `method_b` only for pairwise."""

    crop_id: str
    method_id: str
    method_b: str | None = None


@dataclass(frozen=True)
class Trial:
    """One presentation in an observer's sequence.

    ACR/DCR: `method_id` is rated. Pairwise: `method_id` is shown as A (left), `method_b` as B (right).
    `index` is the position in the observer's full sequence (training first).
    """

    index: int
    crop_id: str
    method_id: str
    method_b: str | None = None
    repetition: int = 0
    training: bool = False

    @property
    def stimulus(self) -> str:
        """A stable stimulus key: 'crop/method', or 'crop/a|b' with the pair sorted (sides do not matter)."""
        if self.method_b is None:
            return f"{self.crop_id}/{self.method_id}"
        a, b = sorted((self.method_id, self.method_b))
        return f"{self.crop_id}/{a}|{b}"


@dataclass(frozen=True)
class StudyDesign:
    """A complete, frozen study description.

    study_id: left empty, it becomes a hash of the fields that define the trials (crop regions,
    method ids, protocol, reference, repetitions, seed, zoom, grey interval, training), so that the
    same settings give the same study and names/notes can change without splitting the data.
    zoom: integer nearest-neighbour magnification used on screen.
    grey_interval_s: seconds of uniform grey between trials (0 in tests).
    """

    crops: tuple[Crop, ...]
    methods: tuple[Method, ...]
    protocol: Protocol = Protocol.ACR
    reference: Method | None = None
    reference_mode: ReferenceMode = ReferenceMode.NONE
    repetitions: int = 1
    seed: int = 0
    zoom: int = 2
    grey_interval_s: float = 1.0
    training: tuple[TrainingItem, ...] = ()
    training_crops: tuple[Crop, ...] = ()
    name: str = "Study"
    study_id: str = field(default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "crops", tuple(self.crops))
        object.__setattr__(self, "methods", tuple(self.methods))
        object.__setattr__(self, "training", tuple(self.training))
        object.__setattr__(self, "training_crops", tuple(self.training_crops))
        object.__setattr__(self, "protocol", Protocol(self.protocol))
        object.__setattr__(self, "reference_mode", ReferenceMode(self.reference_mode))
        self._validate()
        if not self.study_id:
            object.__setattr__(self, "study_id", self.content_id())

    def _validate(self) -> None:
        if not self.crops:
            raise InputError("A study needs at least one crop")
        if not self.methods:
            raise InputError("A study needs at least one method")
        ids = [m.id for m in self.methods]
        if len(set(ids)) != len(ids):
            raise InputError(f"Method ids must be unique, got {ids}")
        crop_ids = [c.id for c in self.all_crops]
        if len(set(crop_ids)) != len(crop_ids):
            raise InputError("Crop ids must be unique")
        if self.repetitions < 1:
            raise InputError(f"Repetitions must be at least 1, got {self.repetitions}")
        if int(self.zoom) != self.zoom or self.zoom < 1:
            raise InputError(f"Zoom must be a whole number >= 1 (nearest-neighbour), got {self.zoom}")
        if self.grey_interval_s < 0:
            raise InputError("The grey interval cannot be negative")
        if self.reference_mode is not ReferenceMode.NONE and self.reference is None:
            raise InputError("A hidden or shown reference needs a reference method")
        if self.protocol is Protocol.DCR and self.reference_mode is not ReferenceMode.SHOWN:
            raise InputError("DCR rates impairment against a reference: choose a reference method and show it")
        if self.protocol is Protocol.ACR and self.reference_mode is ReferenceMode.SHOWN:
            raise InputError("ACR shows one stimulus at a time; hide the reference (ACR-HR) or use DCR")
        if self.protocol is Protocol.PAIRWISE and len(self.conditions) < 2:
            raise InputError("A pairwise study needs at least two methods")
        known_methods = set(self.conditions) | ({self.reference.id} if self.reference else set())
        known_crops = set(crop_ids)
        for item in self.training:
            if item.crop_id not in known_crops or item.method_id not in known_methods or (
                    item.method_b is not None and item.method_b not in known_methods):
                raise InputError(f"Training item {item} refers to an unknown crop or method")
            if (item.method_b is None) == (self.protocol is Protocol.PAIRWISE):
                raise InputError("Pairwise training items need two methods; rating items exactly one")

    # --- derived values -------------------------------------------------------------------
    @property
    def all_crops(self) -> tuple[Crop, ...]:
        return self.crops + self.training_crops

    @property
    def conditions(self) -> tuple[str, ...]:
        """Method ids that are rated (or compared) and analysed, in display order."""
        ids = tuple(m.id for m in self.methods)
        if self.reference_mode is ReferenceMode.HIDDEN and self.reference is not None \
                and self.reference.id not in ids:
            ids += (self.reference.id,)
        return ids

    @property
    def shows_reference(self) -> bool:
        return self.reference_mode is ReferenceMode.SHOWN and self.reference is not None

    def label(self, method_id: str) -> str:
        for m in self.methods + ((self.reference,) if self.reference else ()):
            if m.id == method_id:
                return m.label
        return method_id

    def crop(self, crop_id: str) -> Crop:
        for c in self.all_crops:
            if c.id == crop_id:
                return c
        raise InputError(f"Crop {crop_id!r} is not part of study {self.name!r}")

    @property
    def n_test_trials(self) -> int:
        k = len(self.conditions)
        per_crop = k * (k - 1) // 2 if self.protocol is Protocol.PAIRWISE else k
        return per_crop * len(self.crops) * self.repetitions

    def content_id(self) -> str:
        """sha256 prefix of the fields that decide which trials are shown, and how."""
        key = {
            "crops": [[c.id, *c.region.as_tuple()] for c in self.crops],
            "training_crops": [[c.id, *c.region.as_tuple()] for c in self.training_crops],
            "methods": [m.id for m in self.methods],
            "reference": self.reference.id if self.reference else None,
            "reference_mode": self.reference_mode.value, "protocol": self.protocol.value,
            "repetitions": self.repetitions, "seed": self.seed, "zoom": int(self.zoom),
            "grey": round(float(self.grey_interval_s), 6),
            "training": [[t.crop_id, t.method_id, t.method_b] for t in self.training],
        }
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]

    # --- JSON -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": STUDY_FORMAT, "version": STUDY_FORMAT_VERSION,
            "study_id": self.study_id, "name": self.name, "protocol": self.protocol.value,
            "crops": [c.to_dict() for c in self.crops],
            "training_crops": [c.to_dict() for c in self.training_crops],
            "methods": [{"id": m.id, "label": m.label} for m in self.methods],
            "reference": {"id": self.reference.id, "label": self.reference.label} if self.reference else None,
            "reference_mode": self.reference_mode.value, "repetitions": self.repetitions, "seed": self.seed,
            "zoom": int(self.zoom), "grey_interval_s": float(self.grey_interval_s),
            "training": [{"crop_id": t.crop_id, "method_id": t.method_id, "method_b": t.method_b}
                         for t in self.training],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> StudyDesign:
        if d.get("format") != STUDY_FORMAT:
            raise InputError("This file is not an ISP Viewer study")
        if int(d.get("version", 0)) > STUDY_FORMAT_VERSION:
            raise InputError("This study was written by a newer ISP Viewer; please update")
        try:
            ref = d.get("reference")
            return cls(
                crops=tuple(Crop.from_dict(c) for c in d["crops"]),
                training_crops=tuple(Crop.from_dict(c) for c in d.get("training_crops", [])),
                methods=tuple(Method(str(m["id"]), str(m["label"])) for m in d["methods"]),
                protocol=Protocol(d["protocol"]),
                reference=Method(str(ref["id"]), str(ref["label"])) if ref else None,
                reference_mode=ReferenceMode(d.get("reference_mode", "none")),
                repetitions=int(d.get("repetitions", 1)), seed=int(d.get("seed", 0)),
                zoom=int(d.get("zoom", 2)), grey_interval_s=float(d.get("grey_interval_s", 1.0)),
                training=tuple(TrainingItem(t["crop_id"], t["method_id"], t.get("method_b"))
                               for t in d.get("training", [])),
                name=str(d.get("name", "Study")), study_id=str(d.get("study_id", "")),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"The study file is malformed ({e})") from e

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> StudyDesign:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as e:
            raise InputError(f"The study file is not valid JSON ({e.msg}, line {e.lineno})") from e


# --- presentation order ---------------------------------------------------------------------
def observer_rng(seed: int, observer_id: str) -> random.Random:
    """A generator fixed by (seed, observer): sha256 makes the mapping identical on every machine."""
    digest = hashlib.sha256(f"{int(seed)}\x00{observer_id}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _shuffle(items: list, rng: random.Random) -> None:
    """Fisher-Yates driven only by rng.random(), whose sequence Python guarantees across versions
    (random.shuffle's algorithm is not guaranteed, and a study must replay identically)."""
    for i in range(len(items) - 1, 0, -1):
        j = min(int(rng.random() * (i + 1)), i)
        items[i], items[j] = items[j], items[i]


def _separate_repeats(items: list[Trial]) -> None:
    """Avoid showing the same stimulus twice in a row (repetitions), when another order allows it."""
    for i in range(1, len(items)):
        if items[i].stimulus != items[i - 1].stimulus:
            continue
        for j in range(i + 1, len(items)):
            if items[j].stimulus != items[i - 1].stimulus:
                items[i], items[j] = items[j], items[i]
                break
        else:
            return  # the rest is all this one stimulus: nothing left to separate


def _test_items(design: StudyDesign, rng: random.Random) -> list[Trial]:
    items: list[Trial] = []
    conds = design.conditions
    for crop in design.crops:
        if design.protocol is Protocol.PAIRWISE:
            for i in range(len(conds)):
                for j in range(i + 1, len(conds)):
                    # First side at random, then alternate, so repetitions balance left/right bias.
                    flip = rng.random() < 0.5
                    for r in range(design.repetitions):
                        a, b = (conds[j], conds[i]) if flip ^ (r % 2 == 1) else (conds[i], conds[j])
                        items.append(Trial(0, crop.id, a, b, r))
        else:
            for m in conds:
                items.extend(Trial(0, crop.id, m, None, r) for r in range(design.repetitions))
    return items


def presentation_order(design: StudyDesign, observer_id: str) -> list[Trial]:
    """The full trial sequence of one observer: training items (in design order), then every test
    stimulus x repetition in an order shuffled by (design.seed, observer_id).

    Reproducible: the same design and observer always give the same list, on any machine;
    different observers get different orders (and, for pairwise, different left/right sides).
    """
    rng = observer_rng(design.seed, observer_id)
    test = _test_items(design, rng)
    _shuffle(test, rng)
    _separate_repeats(test)
    training = [Trial(0, t.crop_id, t.method_id, t.method_b, 0, True) for t in design.training]
    return [Trial(i, t.crop_id, t.method_id, t.method_b, t.repetition, t.training)
            for i, t in enumerate(training + test)]


def stimulus_pixels(design: StudyDesign, provider: ImageProvider, crop_id: str, method_id: str) -> np.ndarray:
    """Ask the provider for one stimulus and check the contract (HxWx3 float32, region size)."""
    region = design.crop(crop_id).region
    arr = np.asarray(provider(method_id, region))
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise InputError(f"The image provider returned shape {arr.shape} for {method_id!r}; expected HxWx3")
    if arr.shape[:2] != (region.h, region.w):
        raise InputError(f"The image provider returned {arr.shape[1]}x{arr.shape[0]} pixels for a "
                         f"{region.w}x{region.h} crop ({method_id!r})")
    return np.ascontiguousarray(arr, dtype=np.float32)


def to_display_uint8(rgb: np.ndarray) -> np.ndarray:
    """HxWx3 float [0,1] -> uint8 with round-half-up: the one quantisation used on screen and in packages."""
    return (np.clip(np.asarray(rgb, dtype=np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def zoom_nearest(img: np.ndarray, zoom: int) -> np.ndarray:
    """Integer nearest-neighbour magnification (each pixel becomes a zoom x zoom block)."""
    z = int(zoom)
    return img if z == 1 else np.repeat(np.repeat(img, z, axis=0), z, axis=1)


def methods_from_pairs(pairs: Sequence[tuple[str, str]]) -> tuple[Method, ...]:
    return tuple(Method(str(i), str(label)) for i, label in pairs)
