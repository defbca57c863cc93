"""Start-up like a viewer: process start to window shown, to the demo's first pixels, to a RAW's
first pixels (a RAW given on the command line), and to all demo panes.

Run: .venv/bin/python bench/startup.py [--runs 5] [--raw FILE] [--shared ../shared]

Every figure is the median over `--runs` fresh processes (after one untimed warm-up start),
measured from just before the process is spawned, next to the time a bare
`python -c "import PySide6.QtWidgets"` takes in the same run. The children run the real start-up
(isp_viewer.app.start) offscreen, with HOME in a temporary folder so recent files and the study
database stay out of the user's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHILD_TIMEOUT_S = 180
DEMO_PANES = 5   # ground truth, bilinear, Malvar, Menon, demosaicnet


# --- inside a child process ------------------------------------------------------------------------


def child(t0: float, files: list[str], until: str) -> None:
    """Print {"window": s, "first_pixels": s, "all_panes": s} (seconds after t0) and exit."""
    sys.path.insert(0, str(REPO))
    from PySide6.QtCore import QEvent, QObject, QTimer

    from isp_viewer.app import start

    marks: dict[str, float] = {}

    def mark(name: str) -> None:
        marks.setdefault(name, time.time() - t0)

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                mark("window")
                QTimer.singleShot(0, lambda: app.removeEventFilter(self))   # one Python call per event is enough
            return False

    from PySide6.QtWidgets import QApplication

    # The app starts importing the network panel (and torch) on a worker once a pane shows pixels;
    # that import can land in sys.modules before this poll sees the pixels, so the modules are
    # also taken at the moment the app asks for it, which is after the first pixels by design.
    from isp_viewer.ui.window_methods import MethodRunner

    request_models = MethodRunner.load_models_in_background

    def recorded_request(self) -> None:
        marks.setdefault("modules_at_models_request", sorted(m for m in ("torch", "scipy") if m in sys.modules))
        request_models(self)

    MethodRunner.load_models_in_background = recorded_request   # type: ignore[method-assign]

    app = QApplication.instance() or QApplication(sys.argv[:1])
    painted = FirstPaint()
    app.installEventFilter(painted)   # the first paint of any widget of the window: it is on screen
    app, window = start(files)

    def finish() -> None:
        print(json.dumps({**marks, "modules": sorted(m for m in ("torch", "scipy", "choix") if m in sys.modules)}),
              flush=True)
        os._exit(0)   # workers may still be decoding: their results are not measured

    def poll() -> None:
        shown = [p for p in window.panes.values() if p.display is not None]
        if shown and "first_pixels" not in marks:
            shown[0].view_widget.viewport().repaint()   # the pixels drawn, not just handed over
            mark("first_pixels")
            marks["modules_at_first_pixels"] = marks.get("modules_at_models_request",
                                                         sorted(m for m in ("torch", "scipy") if m in sys.modules))
            if until == "first_pixels":
                finish()
        items = window.session.items.values()
        if until == "all_panes" and len(window.panes) >= DEMO_PANES and len(shown) == len(window.panes) \
                and all(it.status == "ready" for it in items):
            mark("all_panes")
            finish()
        if any(it.status == "error" for it in items):
            marks["error"] = next(it.message for it in items if it.status == "error")
            finish()

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(5)
    app.exec()


# --- the parent ------------------------------------------------------------------------------------


def spawn(args: list[str], env: dict) -> tuple[float, dict]:
    t0 = time.time()
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", repr(t0), *args],
                          check=False, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, env=env, cwd=str(REPO))
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"startup child failed ({proc.returncode}): {tail}")
    return time.time() - t0, json.loads(lines[-1])


def bare_qt(env: dict) -> float:
    t0 = time.time()
    subprocess.run([sys.executable, "-c", "import PySide6.QtWidgets"], check=True, env=env)
    return time.time() - t0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    p.add_argument("--raw", type=Path, default=None, help="RAW file for the RAW row (default: shared Blackmagic.dng)")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--until", default="all_panes", help=argparse.SUPPRESS)
    p.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child is not None:
        child(float(args.child), args.files, args.until)
        return 0

    raw = args.raw or args.shared / "data" / "raw" / "Blackmagic.dng"
    with tempfile.TemporaryDirectory(prefix="ispv-startup-") as home:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": home, "ISPV_STUDY_DB": f"{home}/study.sqlite",
               "ISPV_CACHE_DIR": f"{home}/cache", "XDG_CONFIG_HOME": f"{home}/.config"}
        spawn(["--until", "first_pixels"], env)   # warm-up: file caches, the study database
        rows: dict[str, list[float]] = {"bare": [], "window": [], "demo": [], "all": [], "raw_window": [], "raw": []}
        modules: set[str] = set()
        for _ in range(args.runs):
            rows["bare"].append(bare_qt(env))
            _, demo = spawn(["--until", "all_panes"], env)
            if "error" in demo:
                raise SystemExit(f"demo failed: {demo['error']}")
            rows["window"].append(demo["window"])
            rows["demo"].append(demo["first_pixels"])
            rows["all"].append(demo["all_panes"])
            modules.update(demo.get("modules_at_first_pixels", []))
            if raw.is_file():
                _, opened = spawn(["--until", "first_pixels", str(raw)], env)
                rows["raw_window"].append(opened["window"])
                rows["raw"].append(opened["first_pixels"])

    def med(key: str) -> str:
        return f"{statistics.median(rows[key]):6.2f} s" if rows[key] else "     -  "

    def spread(key: str) -> str:
        return f"(min {min(rows[key]):.2f}, max {max(rows[key]):.2f})" if rows[key] else "(no RAW file)"

    print(f"median of {args.runs} fresh processes, seconds from process start; {os.cpu_count()} CPU cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"  python -c 'import PySide6.QtWidgets' {med('bare')}  {spread('bare')}")
    print(f"  window shown                        {med('window')}  {spread('window')}")
    print(f"  demo: first pixels (ground truth)   {med('demo')}  {spread('demo')}")
    print(f"  demo: all {DEMO_PANES} panes                  {med('all')}  {spread('all')}")
    print(f"  {raw.name}: window shown{' ' * max(1, 22 - len(raw.name))}{med('raw_window')}  {spread('raw_window')}")
    print(f"  {raw.name}: first pixels{' ' * max(1, 22 - len(raw.name))}{med('raw')}  {spread('raw')}")
    print(f"  heavy modules loaded at the demo's first pixels: {', '.join(sorted(modules)) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
