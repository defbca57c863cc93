"""Reopen a saved session (.ispv) in the window: inputs, methods, reference, ROIs, view mode,
display and viewport. The document is read by export.session_doc; this module only replays it
through the window's own actions, so a reopened pane is made exactly as a new one would be."""

from __future__ import annotations

from pathlib import Path

from isp_viewer.core.errors import IspViewerError
from isp_viewer.core.methods import ClassicalMethod, LibRawOptions, NetworkMethod
from isp_viewer.export.session_doc import PaneToOpen, active_roi, restore_plan
from isp_viewer.export.session_file import SESSION_SUFFIX, load, resolve_path


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
    window.exposure_box.setValue(doc.display.exposure)
    gammas = [None, 2.2, 1.8, 1.0]
    if doc.display.gamma in gammas:
        window.gamma_box.setCurrentIndex(gammas.index(doc.display.gamma))
    inputs = [p for p in plan if p.is_input]
    methods = [p for p in plan if not p.is_input]
    pending: dict[str, list[PaneToOpen]] = {}
    for pane in methods:
        pending.setdefault(str(pane.path), []).append(pane)
    reference_ids: list[int] = []
    for pane in inputs:
        item_id = window.open_input(str(pane.path), pane.method, pane.label if not pane.reference else None)
        if pane.reference:
            reference_ids.append(item_id)
    if reference_ids:
        session.set_reference(reference_ids[0])
    state = {"view_done": False}

    def on_changed(item) -> None:
        source = session.sources.get(item.source_path)
        waiting = pending.pop(item.source_path, None) if source is not None and item.status == "ready" else None
        for pane in waiting or []:
            _add_method(window, source, pane, path.parent)
        ref = session.reference
        if not state["view_done"] and ref is not None and ref.image is not None:
            state["view_done"] = True
            roi = active_roi(doc)
            if roi is not None:
                session.set_roi(roi)
            if doc.display.view_mode != "image":
                window.analysis.set_mode(doc.display.view_mode)
            if doc.display.viewport is not None:
                cx, cy, zoom = doc.display.viewport
                window.fit_mode = False
                session.set_viewport(cx, cy, zoom)
                window._apply_viewport(session.viewport)
        if not pending and state["view_done"]:
            session.item_changed.disconnect(on_changed)

    session.item_changed.connect(on_changed)
    window.session_path = path
    window.setWindowTitle(f"ISP Viewer — {path.name}")
    if warnings:
        window.show_error(f"{path.name}: " + "; ".join(warnings))
    window.statusBar().showMessage(f"opened session {path.name}: {len(plan)} panes", 8000)
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
