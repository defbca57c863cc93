"""Opening RAW files: time to first pixels, full render vs bare rawpy, linked pan/zoom frame time.

Run: .venv/bin/python bench/open_raw.py [--shared ../shared] [--frames 60] [--no-synthetic]
Figures are ratios against baselines measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from isp_viewer.io.dng import write_bayer_dng
from isp_viewer.io.raw import LibRawOptions, postprocess_kwargs, quick_preview, render_libraw


def timed(fn, repeat=3):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def synthetic_dng(folder: Path, width=5472, height=3648) -> Path:
    """A 20 MP RGGB DNG made from scikit-image's astronaut, upscaled, with sensor-like noise."""
    import cv2
    import skimage.data

    rgb = cv2.resize(skimage.data.astronaut(), (width, height), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255
    lin = rgb ** 2.2
    mosaic = np.empty((height, width), np.float32)
    mosaic[0::2, 0::2] = lin[0::2, 0::2, 0] / 2.0
    mosaic[0::2, 1::2] = lin[0::2, 1::2, 1]
    mosaic[1::2, 0::2] = lin[1::2, 0::2, 1]
    mosaic[1::2, 1::2] = lin[1::2, 1::2, 2] / 1.6
    rng = np.random.default_rng(0)
    mosaic += rng.normal(0, 0.002, mosaic.shape).astype(np.float32)
    values = np.clip(mosaic * (16383 - 512) + 512, 0, 16383).astype(np.uint16)
    return write_bayer_dng(folder / "synthetic_20mp.dng", values, "RGGB", black=512, white=16383)


def bench_file(path: Path) -> dict:
    import rawpy

    options = LibRawOptions("AHD", "camera", "srgb", 16)
    kwargs = postprocess_kwargs(options)

    def bare():
        with rawpy.imread(str(path)) as raw:
            return raw.postprocess(**kwargs)

    t_bare, _ = timed(bare)
    t_full, image = timed(lambda: render_libraw(path, options))
    t_preview, prev = timed(lambda: quick_preview(path))
    t_first_gui = first_pixels_in_window(path)
    return {"file": path.name, "mp": image.width * image.height / 1e6, "bare": t_bare, "full": t_full,
            "preview": t_preview, "preview_shape": prev.shape, "first_gui": t_first_gui}


def first_pixels_in_window(path: Path) -> float:
    """Seconds from open_files() to the first image shown in a pane of the real window (offscreen)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from isp_viewer.ui.main_window import MainWindow

    win = MainWindow()
    win.show()
    app.processEvents()   # the window is up before the clock starts
    t0 = time.perf_counter()
    win.open_files([str(path)])
    pane = next(iter(win.panes.values()))
    while pane.display is None and time.perf_counter() - t0 < 60:
        app.processEvents()
        time.sleep(0.002)
    pane.view_widget.viewport().repaint()   # the pixels drawn, not just handed to the pane
    t = time.perf_counter() - t0
    while win.bridge.pending:
        app.processEvents()
        time.sleep(0.01)
    win.close()
    app.processEvents()
    return t


def bench_pan(frames: int) -> tuple[float, float]:
    """Median and p95 frame time of panning six linked 12 MP panes, painting every pane each frame."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from isp_viewer.core.image import Image
    from isp_viewer.ui.main_window import MainWindow

    win = MainWindow()
    win.resize(1920, 1080)
    win.show()
    rng = np.random.default_rng(0)
    base = rng.random((3000, 4000, 3), dtype=np.float32)
    for k in range(6):
        item = win.session.add_item(f"pane {k}")
        win._set_ready(item.id, Image(np.roll(base, k, axis=1)), f"12 MP pane {k}")
    while win.bridge.pending:
        app.processEvents()
        time.sleep(0.01)
    win.set_zoom(1.0)
    app.processEvents()
    view = win.master_view()
    times = []
    for i in range(frames):
        t0 = time.perf_counter()
        view.translateBy(x=7 if i % 40 < 20 else -7, y=3)
        for pane in win.panes.values():
            pane.view_widget.viewport().repaint()
        app.processEvents()
        times.append(time.perf_counter() - t0)
    win.close()
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--no-synthetic", action="store_true", help="skip the 20 MP synthetic DNG (slow on small machines)")
    args = p.parse_args()
    files = []
    raw_dir = Path(args.shared) / "data" / "raw"
    if raw_dir.is_dir():
        decodable = [f for f in raw_dir.iterdir() if f.name in ("Blackmagic.dng", "RAW_KODAK_DC50_é.KDC")]
        files.append(max(decodable, key=lambda f: f.stat().st_size))
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_synthetic:
            files.append(synthetic_dng(Path(tmp)))
        print(f"{'file':24} {'MP':>5} {'bare rawpy':>10} {'full render':>11} {'ratio':>6} {'preview':>8} "
              f"{'first px (GUI)':>15}")
        for f in files:
            r = bench_file(f)
            print(f"{r['file']:24} {r['mp']:5.1f} {r['bare']:9.2f}s {r['full']:10.2f}s {r['full'] / r['bare']:5.2f}x "
                  f"{r['preview']:7.3f}s {r['first_gui']:14.3f}s")
    med, p95 = bench_pan(args.frames)
    print(f"pan, six linked 12 MP panes: median frame {med * 1000:.1f} ms ({1 / med:.0f} fps), p95 {p95 * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
