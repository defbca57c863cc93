"""The evented state the UI watches: opened sources, the methods shown in panes, the reference.

Plain Python (no Qt): listeners are callables, called on the thread that changes the session —
the UI only changes it on the GUI thread.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from isp_viewer.core.image import Image


class Event:
    """A minimal signal: connect(callable), emit(*args)."""

    def __init__(self) -> None:
        self._listeners: list[Callable[..., Any]] = []

    def connect(self, fn: Callable[..., Any]) -> None:
        self._listeners.append(fn)

    def disconnect(self, fn: Callable[..., Any]) -> None:
        self._listeners.remove(fn)

    def emit(self, *args: Any) -> None:
        for fn in list(self._listeners):
            fn(*args)


@dataclass(frozen=True)
class PaneItem:
    """One method's result for one source, as a pane shows it."""

    id: int
    label: str
    source_path: str = ""
    method: dict = field(default_factory=dict)
    image: Image | None = None
    status: str = "loading"   # loading | ready | error
    message: str = ""
    progress: float | None = None


class Session:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.items: dict[int, PaneItem] = {}
        self.sources: dict[str, Any] = {}   # path -> RawMosaic | Image (what networks take as input)
        self.reference_id: int | None = None
        # False while the reference is only the first pane that became ready (no one chose it):
        # then it is not a ground truth, and metrics against it would read as quality.
        self.reference_chosen = False
        self.item_added = Event()
        self.item_changed = Event()
        self.item_removed = Event()
        self.reference_changed = Event()

    def add_item(self, label: str, source_path: str = "", method: dict | None = None) -> PaneItem:
        item = PaneItem(next(self._ids), label, source_path, dict(method or {}))
        self.items[item.id] = item
        self.item_added.emit(item)
        return item

    def update_item(self, item_id: int, **changes: Any) -> PaneItem | None:
        if item_id not in self.items:
            return None  # removed meanwhile: the result is stale
        item = replace(self.items[item_id], **changes)
        self.items[item_id] = item
        self.item_changed.emit(item)
        if self.reference_id is None and item.status == "ready":
            self.set_reference(item_id, chosen=False)
        return item

    def remove_item(self, item_id: int) -> None:
        if self.items.pop(item_id, None) is not None:
            self.item_removed.emit(item_id)
            if self.reference_id == item_id:
                ready = [i for i in self.items.values() if i.status == "ready"]
                self.set_reference(ready[0].id if ready else None, chosen=False)

    def set_reference(self, item_id: int | None, chosen: bool = True) -> None:
        """Make `item_id` the reference; chosen=False for the session's own fallback choice."""
        if item_id != self.reference_id or chosen != self.reference_chosen:
            self.reference_id = item_id
            self.reference_chosen = chosen and item_id is not None
            self.reference_changed.emit(item_id)

    @property
    def reference(self) -> PaneItem | None:
        return self.items.get(self.reference_id) if self.reference_id is not None else None
