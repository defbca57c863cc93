"""Reopen a saved session (.ispv) in the window: inputs, methods, reference, ROIs, view mode,
display, viewport and the metrics table's columns. The document is read by export.session_doc;
this module only replays it through the window's own actions, so a reopened pane is made exactly
as a new one would be."""

from __future__ import annotations

import contextlib
from pathlib import Path

from isp_viewer.core.errors import IspViewerError
from isp_viewer.core.methods import ClassicalMethod, LibRawOptions, NetworkMethod
from isp_viewer.export.session_doc import PaneToOpen, active_roi, restore_plan
from isp_viewer.export.session_file import SESSION_SUFFIX, load, resolve_path
from isp_viewer.io.images import simulate_mosaic
from isp_viewer.ui.sr_tools import simulate_item
from isp_viewer.ui.window_files import ground_truth_label


def is_session(path: str | Path) -> bool:
    return str(path).lower().endswith(SESSION_SUFFIX)


def open_session(window, path: str | Path) -> bool:
    """Replace the window's panes with the session in `path`; False (with one message) if unreadable."""
    path = Path(path)
    try:
        doc = load(path)
        plan, warnings = restore_plan(doc, path.parent)
    except IspViewerError as err:
        window.show_error(str(err))
        return False
    session = window.session
    session.clear()
    session.sources.clear()
    session.set_reference(None)
    for region in (r.region for r in doc.rois):
        session.keep_roi(region)
        window.study.add_crop(region)
    session.set_metrics(doc.metrics)   # the Metrics… menu listens (a file without the field: PSNR, SSIM)
    window.exposure_box.setValue(doc.display.exposure)
    gammas = [None, 2.2, 1.8, 1.0]
    if doc.display.gamma in gammas:
        window.gamma_box.setCurrentIndex(gammas.index(doc.display.gamma))
    inputs = [p for p in plan if p.is_input]
    methods = [p for p in plan if not p.is_input]
    pending: dict[str, list[PaneToOpen]] = {}
    for pane in methods:
        pending.setdefault(pane.source_key, []).append(pane)
    # inputs the methods do not take as they are: an RGB ground truth mosaicked (the demo) or
    # shrunk (SR); their methods wait for the simulated input
    warning_line = f"{path.name}: " + "; ".join(warnings)
    to_simulate = {str(p.path): p for p in inputs if p.simulate_cfa or p.simulate_lr}
    simulating: set[str] = set()
    window.figure_layouts = dict(doc.figures)   # the layouts edited in the export dialog stay
    reference_ids: list[int] = []
    for pane in inputs:
        item_id = window.open_input(str(pane.path), pane.method, pane.label if not pane.reference else None)
        if pane.reference:
            reference_ids.append(item_id)
    if reference_ids:
        session.set_reference(reference_ids[0])
    state = {"view_done": False}

    def add_waiting(key: str) -> None:
        source = session.sources.get(key)
        if source is None or key in simulating:
            return
        for pane in pending.pop(key, []):
            _add_method(window, source, pane, path.parent)

    def mosaic_ready(item_id: int, pane: PaneToOpen, mosaic) -> None:
        key = str(pane.path)
        simulating.discard(key)
        session.sources[key] = mosaic
        window._set_models_source(mosaic)
        if pane.reference and getattr(pane.method, "ground_truth", False):
            session.update_item(item_id, label=ground_truth_label(key))
        add_waiting(key)
        stop_when_done()

    def stop_when_done() -> None:
        if pending or to_simulate or simulating or not state["view_done"]:
            return
        if any(i.status == "loading" for i in session.items.values()):
            return
        with contextlib.suppress(ValueError):   # already disconnected
            session.item_changed.disconnect(on_changed)
        # once more with every pane in place: each new pane resized the others' views
        apply_viewport()
        if warnings:   # the panes' own messages came since: the warning is the last word
            window.statusBar().showMessage(warning_line, 15000)

    def on_changed(item) -> None:
        simulate = to_simulate.pop(item.source_path, None) if item.is_input and item.status == "ready" else None
        if simulate is not None and simulate.simulate_lr:
            simulate_item(window, item.id, simulate.simulate_lr)
        elif simulate is not None:
            simulating.add(item.source_path)
            image = item.image
            window.bridge.submit(lambda: simulate_mosaic(image, simulate.simulate_cfa),
                                 lambda mosaic, i=item.id, p=simulate: mosaic_ready(i, p, mosaic),
                                 lambda err: window.show_error(str(err)))
        elif item.status == "ready":
            add_waiting(item.source_path)
        ref = session.reference
        if not state["view_done"] and ref is not None and ref.image is not None:
            state["view_done"] = True
            roi = active_roi(doc)
            if roi is not None:
                session.set_roi(roi)
            if doc.display.view_mode != "image":
                window.analysis.set_mode(doc.display.view_mode)
            apply_viewport()
        stop_when_done()

    def apply_viewport() -> None:
        if doc.display.viewport is not None:
            cx, cy, zoom = doc.display.viewport
            window.fit_mode = False
            session.set_viewport(cx, cy, zoom)
            window._apply_viewport(session.viewport)

    session.item_changed.connect(on_changed)
    window.session_path = path
    window.setWindowTitle(f"ISP Viewer — {path.name}")
    window.statusBar().showMessage(f"opened session {path.name}: {len(plan)} panes", 8000)
    if warnings:   # after the "opened" line, so the status bar keeps the warning
        window.show_error(warning_line)
    return True


def _add_method(window, source, pane: PaneToOpen, base_dir: Path) -> None:
    method = pane.method
    if isinstance(method, LibRawOptions):
        window.add_libraw(source, method)
    elif isinstance(method, ClassicalMethod):
        window.add_classical(method.algorithm, source)
    elif isinstance(method, NetworkMethod):
        weights = str(resolve_path(method.weights_path, base_dir)) if method.weights_path else None
        window.add_network(method.model_id, source, weights)
