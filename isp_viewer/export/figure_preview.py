"""Qt-free helpers of the export dialog's live preview: a provider cache shared by the preview
worker and Save, the shrunk PNG rendering, and the worker's result as pixels or a message."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

import numpy as np

from isp_viewer.core.errors import IspViewerError
from isp_viewer.core.image import Image
from isp_viewer.export.figure import FigureLayout
from isp_viewer.export.figure_export import ImageProvider, figure_for
from isp_viewer.export.render import render_png_image
from isp_viewer.export.session_file import SessionDoc


class CachingProvider:
    """Asks the owner's provider once per method; the preview worker and Save share the answers."""

    def __init__(self, provider: ImageProvider) -> None:
        self._provider = provider
        self._lock = threading.Lock()
        self._images: dict[str, Image] = {}
        self._captions: dict[tuple, str | None] = {}

    def image(self, method_id: str) -> Image:
        with self._lock:
            if method_id not in self._images:
                self._images[method_id] = self._provider.image(method_id)
            return self._images[method_id]

    def caption(self, method_id: str, metrics: str, convention: Mapping[str, Any]) -> str | None:
        key = (method_id, metrics, tuple(sorted((k, repr(v)) for k, v in convention.items())))
        with self._lock:
            if key not in self._captions:
                self._captions[key] = self._provider.caption(method_id, metrics, convention)
            return self._captions[key]


def preview_pixels(doc: SessionDoc, layout: FigureLayout, provider: ImageProvider,
                   max_w: int, max_h: int) -> np.ndarray:
    """The figure's PNG rendering shrunk to fit max_w x max_h (runs in the worker)."""
    from PIL import Image as PILImage

    img = render_png_image(figure_for(doc, layout, provider))
    img.thumbnail((max_w, max_h), PILImage.Resampling.LANCZOS)
    return np.ascontiguousarray(np.asarray(img))


def result_or_error(future: Future) -> object:
    """The worker's pixels, or the error's one-line message."""
    try:
        return future.result()
    except Exception as err:  # noqa: BLE001 - any failure becomes a message in the preview
        return f"{type(err).__name__}: {err}" if not isinstance(err, IspViewerError) else str(err)
