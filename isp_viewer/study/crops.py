"""Crops: the regions of interest a study shows to observers, with the researcher's notes.

A crop's `region` lives on the reference image's pixel grid (see `isp_viewer.core.region`); the
image provider turns (method id, region) into the pixels each method produced there.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from isp_viewer.core.errors import InputError
from isp_viewer.core.region import Region

# What the researcher saw in the crop; a closed list so that analyses can be grouped by it.
CROP_TAGS: tuple[str, ...] = ("zippering", "moiré", "false colour", "noise", "blur", "ringing", "other")


def check_tag(tag: str) -> str:
    if tag not in CROP_TAGS:
        raise InputError(f"Unknown crop tag {tag!r}; choose one of: {', '.join(CROP_TAGS)}")
    return tag


def new_id() -> str:
    """A short random id that stays unique when studies from several machines are merged."""
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class Crop:
    """A named region with a tag and a free-text note.

    created/modified: seconds since the epoch (UTC), as given by time.time().
    """

    id: str
    name: str
    region: Region
    tag: str = "other"
    note: str = ""
    created: float = 0.0
    modified: float = 0.0

    def __post_init__(self) -> None:
        check_tag(self.tag)
        if self.region.empty:
            raise InputError(f"Crop {self.name!r} has an empty region {self.region.as_tuple()}")

    @classmethod
    def create(cls, name: str, region: Region, tag: str = "other", note: str = "") -> Crop:
        now = time.time()
        return cls(new_id(), name, region, tag, note, now, now)

    def edited(self, **changes: Any) -> Crop:
        """A copy with `changes` applied and `modified` set to now."""
        return replace(self, modified=time.time(), **changes)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "region": list(self.region.as_tuple()), "tag": self.tag,
                "note": self.note, "created": self.created, "modified": self.modified}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Crop:
        try:
            x, y, w, h = (int(v) for v in d["region"])
            return cls(str(d["id"]), str(d["name"]), Region(x, y, w, h), str(d.get("tag", "other")),
                       str(d.get("note", "")), float(d.get("created", 0.0)), float(d.get("modified", 0.0)))
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"A crop in the study file is malformed ({e})") from e
