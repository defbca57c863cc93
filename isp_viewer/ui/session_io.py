"""The window's state as a session document (.ispv), and back."""

from __future__ import annotations

from pathlib import Path

from isp_viewer.core.session import Session
from isp_viewer.export.figure import FigureLayout
from isp_viewer.export.session_file import (
    ClassicalOptions, DisplaySettings, InputOptions, LibRawOptions, MethodRef, NetworkOptions, RoiRef, SessionDoc,
    make_input_ref, relative_path,
)
from isp_viewer.io.raw import RawMosaic
from isp_viewer.core.region import Region
from isp_viewer.export.figure import DEFAULT_ROI_COLOURS


def build_doc(session: Session, base_dir: Path, rois: list[Region], exposure: float, gamma: float | None,
              convention: dict, figure: FigureLayout | None = None) -> SessionDoc:
    """Inputs (with sha256), reference, one method per pane, ROIs, display, convention, a figure."""
    inputs, input_ids = [], {}
    for path, source in session.sources.items():
        simulated = isinstance(source, RawMosaic) and source.meta.get("raw_type") == "simulated"
        real_path = source.meta.get("simulated_from", path) if simulated else path
        kind = "raw" if isinstance(source, RawMosaic) and not simulated else "image"
        ref = make_input_ref(f"in{len(inputs) + 1}", real_path, base_dir, kind,
                             source.cfa if simulated else None)
        inputs.append(ref)
        input_ids[path] = ref.id
    methods, reference = [], ""
    for item in session.items.values():
        if item.status != "ready":
            continue
        options = _method_options(item, session, input_ids, inputs, base_dir)
        if options is None:
            continue
        if isinstance(options, InputOptions) and item.id == session.reference_id:
            reference = options.input_id
        methods.append(MethodRef(f"m{len(methods) + 1}", method_label(item, options), options))
    roi_refs = tuple(RoiRef(f"roi{i + 1}", f"ROI {i + 1}", r, DEFAULT_ROI_COLOURS[i % len(DEFAULT_ROI_COLOURS)])
                     for i, r in enumerate(rois))
    # Captions (PSNR/SSIM) need a ground-truth reference input; a real RAW has none.
    figures = {"figure": figure or FigureLayout(show_captions=bool(reference))}
    return SessionDoc(inputs=tuple(inputs), reference=reference, methods=tuple(methods), rois=roi_refs,
                      display=DisplaySettings(exposure=exposure, gamma=gamma), metric_convention=convention,
                      figures=figures)


def method_label(item, options) -> str:
    """A short figure label: what made the image, not which file it came from."""
    if isinstance(options, LibRawOptions):
        return f"LibRaw {options.demosaic}" + (" (linear)" if options.output == "linear" else "")
    if isinstance(options, NetworkOptions):
        return item.label.split(" · ")[0]
    if isinstance(options, ClassicalOptions):
        return item.label
    return "Reference" if item.method.get("kind") == "demo" else Path(item.source_path or item.label).name


def _method_options(item, session: Session, input_ids: dict, inputs: list, base_dir: Path):
    kind = item.method.get("kind")
    source = session.sources.get(item.source_path)
    if kind in ("default", "demo") and not isinstance(source, RawMosaic):
        # an image (or the demo's ground truth) shown as it is
        path = item.image.source if item.image is not None else item.source_path
        for p, ref_id in input_ids.items():
            ref = next(r for r in inputs if r.id == ref_id)
            if Path(p) == Path(path) or ref.path == relative_path(path, base_dir):
                return InputOptions(ref_id)
        ref = make_input_ref(f"in{len(inputs) + 1}", path, base_dir, "image")
        inputs.append(ref)
        input_ids[path] = ref.id
        return InputOptions(ref.id)
    if kind == "default":
        return LibRawOptions("AHD", "camera", "sRGB", 16)
    if kind == "libraw":
        return LibRawOptions(item.method["demosaic"], item.method["wb"],
                             "linear" if item.method["output"] == "linear" else "sRGB", int(item.method["bits"]))
    if kind == "classical":
        return ClassicalOptions(item.method["algorithm"], source.cfa if isinstance(source, RawMosaic) else "RGGB")
    if kind == "network":
        meta = item.image.meta if item.image is not None else {}
        weights = item.method.get("weights") or meta.get("weights_path", "")
        return NetworkOptions(item.method["model"], relative_path(weights, base_dir) if weights else "",
                              meta.get("weights_sha256", ""))
    return None
