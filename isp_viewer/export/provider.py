"""An ImageProvider that recomputes every method of a session headlessly.

The CLI (`isp-viewer export`) and the GUI's figure export both use it, so both write the same
bytes for the same session. Images are computed once per provider and cached.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image
from isp_viewer.export.session_file import (
    ClassicalOptions,
    InputOptions,
    InputRef,
    LibRawOptions,
    NetworkOptions,
    SessionDoc,
    resolve_path,
)
from isp_viewer.io.develop import classical_demosaic
from isp_viewer.io.open import open_any
from isp_viewer.io.raw import LibRawOptions as RawOptions
from isp_viewer.io.raw import RawMosaic, render_libraw
from isp_viewer.io.resize import simulate_low_resolution
from isp_viewer.metrics import align_to_reference, psnr_ssim
from isp_viewer.metrics.convention import ISP_PAPER, Convention

CLASSICAL_ALIASES = {"bilinear": "bilinear", "malvar": "malvar", "malvar2004": "malvar", "menon": "menon",
                     "menon2007": "menon"}


def convention_dict(conv: Convention) -> dict:
    """The session file's form of a convention (read back by convention_from_dict)."""
    return {"channel": conv.channel, "data_range": conv.data_range, "crop_border": conv.crop_border,
            "quantize": conv.quantize_uint8, "name": conv.name}


def convention_from_dict(d: Mapping[str, Any]) -> Convention:
    if not d:
        return ISP_PAPER
    return Convention(channel=d.get("channel", "rgb"), data_range=float(d.get("data_range", 1.0)),
                      crop_border=int(d.get("crop_border", 0)),
                      quantize_uint8=bool(d.get("quantize", d.get("quantize_uint8", False))),
                      name=d.get("name", "custom"))


class SessionImageProvider:
    """Runs LibRaw, classical demosaicking and networks for a session's methods (see export_figure)."""

    def __init__(self, doc: SessionDoc, base_dir: str | os.PathLike, device: str = "cpu", engine=None) -> None:
        self.doc = doc
        self.base_dir = Path(base_dir)
        self.device = device
        self.engine = engine   # None: the process's shared engine (isp_viewer.engine.run.shared_engine)
        self._images: dict[str, Image] = {}
        self._inputs: dict[str, Image] = {}                   # input id -> its image (captions ask per method)
        self._sr_pairs: dict[str, tuple[Image, Image]] = {}   # input id -> (HR ground truth, LR input)

    # -- inputs -------------------------------------------------------------------------------
    def _path(self, ref: InputRef) -> Path:
        return resolve_path(ref.path, self.base_dir)

    def _open(self, ref: InputRef):
        if ref.simulate_lr:   # SR protocol: methods run on the bicubic low-resolution copy
            return self._sr_pair(ref)[1]
        return open_any(self._path(ref), simulate_cfa=ref.simulate_cfa)

    def _sr_pair(self, ref: InputRef) -> tuple[Image, Image]:
        if ref.id not in self._sr_pairs:
            self._sr_pairs[ref.id] = simulate_low_resolution(self._ground_truth(ref), ref.simulate_lr)
        return self._sr_pairs[ref.id]

    def _ground_truth(self, ref: InputRef) -> Image:
        opened = open_any(self._path(ref))
        if not isinstance(opened, Image):
            raise InputError(f"{Path(ref.path).name}: a low-resolution input is made from an RGB ground truth, "
                             "not from a RAW mosaic")
        return opened

    @cached_property
    def source_input(self) -> InputRef:
        """The input methods run on: the first RAW (or simulated-mosaic / low-resolution) input, else the first."""
        if not self.doc.inputs:
            raise InputError("the session has no inputs")
        for ref in self.doc.inputs:
            if ref.kind == "raw" or ref.simulate_cfa or ref.simulate_lr:
                return ref
        return self.doc.inputs[0]

    @cached_property
    def source(self):
        return self._open(self.source_input)

    def input_image(self, input_id: str) -> Image:
        """An input as shown (a RAW rendered by LibRaw's defaults); decoded once per provider."""
        if input_id not in self._inputs:
            self._inputs[input_id] = self._decode_input(self.doc.input(input_id))
        return self._inputs[input_id]

    def _decode_input(self, ref: InputRef) -> Image:
        if ref.simulate_lr:   # the ground truth on the grid SR outputs land on (cropped to a multiple of s)
            return self._sr_pair(ref)[0]
        opened = open_any(self._path(ref))
        if isinstance(opened, RawMosaic):
            return render_libraw(self._path(ref), RawOptions())
        return opened

    # -- ImageProvider --------------------------------------------------------------------------
    def image(self, method_id: str) -> Image:
        if method_id not in self._images:
            self._images[method_id] = self._compute(self.doc.method(method_id).options)
        return self._images[method_id]

    def _compute(self, options) -> Image:
        if isinstance(options, InputOptions):
            return self.input_image(options.input_id)
        if isinstance(options, LibRawOptions):
            path = self._path(self.source_input)
            return render_libraw(path, options)   # the session's LibRawOptions, half_size included
        if isinstance(options, ClassicalOptions):
            algorithm = CLASSICAL_ALIASES.get(options.algorithm.lower())
            if algorithm is None:
                raise InputError(f"unknown classical demosaic {options.algorithm!r}")
            if not isinstance(self.source, RawMosaic):
                raise InputError("classical demosaicking needs a RAW or simulated-mosaic input")
            return classical_demosaic(self.source, algorithm)
        if isinstance(options, NetworkOptions):
            return self._network(options)
        raise InputError(f"unsupported method kind {getattr(options, 'kind', options)!r}")

    def _network(self, options: NetworkOptions) -> Image:
        from isp_viewer.engine.run import run_through_engine
        from isp_viewer.models.loading import sha256_of_file
        from isp_viewer.models.registry import find_weights, get_spec

        spec = get_spec(options.model_id)
        weights = resolve_path(options.weights_path, self.base_dir) if options.weights_path else find_weights(spec)
        if options.weights_sha256 and weights is not None and Path(weights).is_file():
            found = sha256_of_file(weights)
            if found != options.weights_sha256:
                raise InputError(f"{spec.id}: weights changed since the session was saved "
                                 f"(sha256 {found[:12]}… ≠ {options.weights_sha256[:12]}…)")
        reference = self.input_image(self.doc.reference) if self.doc.reference else None
        settings = dict(options.engine or {})
        return run_through_engine(spec, weights, self.source, reference=reference, device=self.device,
                                  precision=str(settings.get("precision", "auto")),
                                  tile=settings.get("tile_size"), options=settings.get("options") or None,
                                  engine=self.engine)

    def caption(self, method_id: str, metrics: str, convention: Mapping[str, Any]) -> str | None:
        """'PSNR 41.23 dB · SSIM 0.9812' against the session's reference input (None without one)."""
        if not self.doc.reference:
            return None
        method = self.doc.method(method_id)
        if isinstance(method.options, InputOptions) and method.options.input_id == self.doc.reference:
            return "reference"
        reference = self.input_image(self.doc.reference)
        al = align_to_reference(self.image(method_id).rgb(), reference.rgb())
        value = psnr_ssim(al.image, al.reference, convention_from_dict(convention))
        parts = []
        if "PSNR" in metrics.upper():
            parts.append(f"PSNR {value.psnr:.2f} dB")
        if "SSIM" in metrics.upper():
            parts.append(f"SSIM {value.ssim:.4f}")
        return " · ".join(parts) or None
