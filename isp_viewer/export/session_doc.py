"""The session (core.session) as a session document (.ispv), and back (no Qt).

`build_doc` writes what the window shows: inputs (with sha256), the reference, one method per
pane, ROIs, display settings, the viewport and the metrics table's chosen columns. `restore_plan`
reads a document into the panes to open again, in order, with a warning per input that changed
since it was saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from isp_viewer.core.methods import ClassicalMethod, FileMethod, LibRawOptions, NetworkMethod, SimulatedLowRes
from isp_viewer.core.region import Region
from isp_viewer.core.session import Session
from isp_viewer.export.figure import DEFAULT_ROI_COLOURS, FigureLayout
from isp_viewer.export.session_file import (
    DisplaySettings,
    MethodRef,
    RoiRef,
    SessionDoc,
    check_inputs,
    make_input_ref,
    relative_path,
    resolve_path,
)
from isp_viewer.io.raw import RawMosaic

LR_KEY_MARK = "#bicubic-x"   # session.sources key of a low-resolution copy: <ground truth path>#bicubic-x<s>


def lr_key(ground_truth_path: str, scale: int) -> str:
    return f"{ground_truth_path}{LR_KEY_MARK}{scale}"


def build_doc(session: Session, base_dir: Path, convention: dict, figure: FigureLayout | None = None,
              figures: Mapping[str, FigureLayout] | None = None) -> SessionDoc:
    """Inputs (with sha256), reference, one method per open pane, ROIs, display, viewport, convention,
    the metrics table's chosen columns.
    figures: layouts edited in the export dialog (by name), kept over the default one."""
    inputs, input_ids = [], {}
    # A simulated low-resolution copy is no file: its ground truth's input says how to make it again.
    lr_keys = [key.rsplit(LR_KEY_MARK, 1) for key in session.sources if LR_KEY_MARK in key]
    lr_scales = {gt: int(scale) for gt, scale in lr_keys if scale.isdigit()}
    for path, source in session.sources.items():
        if LR_KEY_MARK in path:
            continue
        simulated = isinstance(source, RawMosaic) and source.meta.get("raw_type") == "simulated"
        real_path = source.meta.get("simulated_from", path) if simulated else path
        kind = "raw" if isinstance(source, RawMosaic) and not simulated else "image"
        ref = make_input_ref(f"in{len(inputs) + 1}", real_path, base_dir, kind,
                             source.cfa if simulated else None, lr_scales.get(path))
        inputs.append(ref)
        input_ids[path] = ref.id
    methods, reference = [], ""
    for item in session.items.values():
        if item.status != "ready":
            continue
        options = _method_options(item, session, input_ids, inputs, base_dir)
        if options is None:
            continue
        if isinstance(options, FileMethod) and item.id == session.reference_id:
            reference = options.input_id
        methods.append(MethodRef(f"m{len(methods) + 1}", method_label(item, options), options))
    rois = list(session.kept_rois)
    if session.roi is not None and session.roi not in rois:
        rois.append(session.roi)
    roi_refs = tuple(RoiRef(f"roi{i + 1}", f"ROI {i + 1}", r, DEFAULT_ROI_COLOURS[i % len(DEFAULT_ROI_COLOURS)])
                     for i, r in enumerate(rois))
    active = next((r.id for r in roi_refs if r.region == session.roi), "")
    vp, disp = session.viewport, session.display
    display = DisplaySettings(exposure=disp.exposure, gamma=disp.gamma, view_mode=disp.mode,
                              viewport=None if vp.zoom is None else (vp.cx, vp.cy, vp.zoom), active_roi=active)
    # Captions (PSNR/SSIM) need a ground-truth reference input; a real RAW has none.
    figures = {"figure": figure or FigureLayout(show_captions=bool(reference)), **(figures or {})}
    return SessionDoc(inputs=tuple(inputs), reference=reference, methods=tuple(methods), rois=roi_refs,
                      display=display, metric_convention=convention,
                      figures=figures, metrics=session.metrics)


def method_label(item, options) -> str:
    """A short figure label: what made the image, not which file it came from."""
    if isinstance(options, LibRawOptions):
        return f"LibRaw {options.demosaic}" + (" (linear)" if options.output == "linear" else "")
    if isinstance(options, NetworkMethod):
        return item.label.split(" · ")[0]
    if isinstance(options, ClassicalMethod):
        return item.label
    return "Reference" if isinstance(item.method, FileMethod) and item.method.ground_truth \
        else Path(item.source_path or item.label).name


def _method_options(item, session: Session, input_ids: dict, inputs: list, base_dir: Path):
    method = item.method
    source = session.sources.get(item.source_path)
    if isinstance(method, SimulatedLowRes):
        return None   # made again from its ground truth, not a file
    if isinstance(method, FileMethod) or (item.is_input and not isinstance(source, RawMosaic)):
        # an image (or the demo's ground truth) shown as it is
        path = item.image.source if item.image is not None and item.image.source else item.source_path
        for p, ref_id in input_ids.items():
            ref = next(r for r in inputs if r.id == ref_id)
            if Path(p) == Path(path) or ref.path == relative_path(path, base_dir):
                return FileMethod(ref_id, getattr(method, "ground_truth", False))
        ref = make_input_ref(f"in{len(inputs) + 1}", path, base_dir, "image")
        inputs.append(ref)
        input_ids[path] = ref.id
        return FileMethod(ref.id, getattr(method, "ground_truth", False))
    if isinstance(method, LibRawOptions):
        return method
    if isinstance(method, ClassicalMethod):
        return ClassicalMethod(method.algorithm, source.cfa if isinstance(source, RawMosaic) else method.cfa)
    if isinstance(method, NetworkMethod):
        meta = item.image.meta if item.image is not None else {}
        weights = method.weights_path or meta.get("weights_path", "")
        return NetworkMethod(method.model_id, relative_path(weights, base_dir) if weights else "",
                             method.weights_sha256 or meta.get("weights_sha256", ""), device=method.device,
                             precision=method.precision, tile=method.tile, overlap=method.overlap)
    return None


@dataclass(frozen=True)
class PaneToOpen:
    """One pane of a saved session: the file it needs, the method, the label, whether it is the
    reference, and whether it is an opened input (shown as LibRaw renders it or as it is)."""

    path: Path
    method: object
    label: str
    reference: bool
    is_input: bool
    simulate_cfa: str | None = None
    simulate_lr: int | None = None

    @property
    def source_key(self) -> str:
        """The session.sources key the pane's methods run on (the low-resolution copy for SR)."""
        return lr_key(str(self.path), self.simulate_lr) if self.simulate_lr else str(self.path)


def restore_plan(doc: SessionDoc, base_dir: Path) -> tuple[list[PaneToOpen], list[str]]:
    """The panes to open for `doc` (inputs first) and one warning per missing or changed input."""
    warnings = check_inputs(doc, base_dir)
    panes: list[PaneToOpen] = []
    by_input = {i.id: i for i in doc.inputs}
    first_method_of_input: dict[str, bool] = {}
    for m in doc.methods:
        opts = m.options
        if isinstance(opts, FileMethod):
            ref = by_input[opts.input_id]
            panes.append(PaneToOpen(resolve_path(ref.path, base_dir), opts, m.label, doc.reference == ref.id, True,
                                    ref.simulate_cfa, ref.simulate_lr))
            continue
        # the input the methods run on, as the export provider picks it
        raw_inputs = [i for i in doc.inputs if i.kind == "raw" or i.simulate_cfa or i.simulate_lr] or list(doc.inputs)
        if not raw_inputs:
            continue
        ref = raw_inputs[0]
        opened = isinstance(opts, LibRawOptions) and ref.id not in first_method_of_input and ref.kind == "raw"
        first_method_of_input.setdefault(ref.id, True)
        panes.append(PaneToOpen(resolve_path(ref.path, base_dir), opts, m.label, False, opened, ref.simulate_cfa,
                                ref.simulate_lr))
    panes.sort(key=lambda p: not p.is_input)   # inputs first: the reference exists before the methods
    return panes, warnings


def viewport_of(doc: SessionDoc) -> tuple[float, float, float] | None:
    return doc.display.viewport


def active_roi(doc: SessionDoc) -> Region | None:
    return next((r.region for r in doc.rois if r.id == doc.display.active_roi), None)
