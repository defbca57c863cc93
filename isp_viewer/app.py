"""Start the Qt application (the only place besides ui/ that touches Qt).

A viewer starts like one: the window first, then the first pixels (the demo's ground truth or a
RAW's quick preview), and only then the work that needs torch (the network panel), which is
imported on a worker so the window never waits for it.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Mapping

EXIT_NO_DISPLAY = 2
FIRST_PIXELS_POLL_MS = 20
FIRST_PIXELS_PATIENCE_MS = 3000   # a file that fails to open must not keep the network panel away
# Qt platforms that need no display server.
HEADLESS_PLATFORMS = ("offscreen", "minimal", "minimalegl", "vnc", "eglfs", "linuxfb", "vkkhrdisplay")
SSH_HINT = "(over SSH: `ssh -X`, or QT_QPA_PLATFORM=offscreen, or `xvfb-run scripts/app`)"


def display_problem(env: Mapping[str, str] | None = None, platform: str | None = None) -> str | None:
    """Why Qt could not open a window here, as one line; None when it can (or we cannot tell).

    Qt itself aborts (SIGABRT, exit 134) with several lines when its platform plugin finds no
    display, so the common cases are recognised before a QApplication exists.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return None   # macOS and Windows always have their native platform
    requested = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if requested in HEADLESS_PLATFORMS:
        return None
    has_x, has_wayland = bool(env.get("DISPLAY")), bool(env.get("WAYLAND_DISPLAY"))
    if requested == "xcb" and not has_x:
        return f"isp-viewer: no X display (QT_QPA_PLATFORM=xcb but DISPLAY is not set) {SSH_HINT}"
    if requested.startswith("wayland") and not has_wayland:
        return f"isp-viewer: no Wayland display (QT_QPA_PLATFORM={requested} but WAYLAND_DISPLAY is not set) {SSH_HINT}"
    if not requested and not has_x and not has_wayland:
        return f"isp-viewer: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set) {SSH_HINT}"
    if (requested == "xcb" or (not requested and not has_wayland)) and not _loads("libxcb-cursor.so.0"):
        return ("isp-viewer: Qt's X11 plugin needs libxcb-cursor0, which is not installed "
                "(Debian/Ubuntu: sudo apt install libxcb-cursor0)")
    return None


def _loads(library: str) -> bool:
    try:
        ctypes.CDLL(library)
    except OSError:
        return False
    return True


def start(files: list[str] | None = None):
    """(QApplication, MainWindow): the window shown, its first input requested; no event loop yet."""
    import pyqtgraph as pg
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ISP Viewer")
    from isp_viewer.ui.main_window import MainWindow

    window = MainWindow()
    window.showMaximized()   # the panes get the screen (a fixed size left a third of a 1080p screen unused)
    if files:
        window.open_files(list(files))
    else:
        window.open_demo()
    _after_first_pixels(window, window.load_models_in_background, QTimer)
    return app, window


def _after_first_pixels(window, then, QTimer) -> None:
    """Call `then` once a pane shows pixels (or after FIRST_PIXELS_PATIENCE_MS at the latest)."""
    timer = QTimer(window)
    waited = [0]

    def check() -> None:
        waited[0] += FIRST_PIXELS_POLL_MS
        shown = any(pane.display is not None for pane in window.panes.values())
        if shown or waited[0] >= FIRST_PIXELS_PATIENCE_MS:
            timer.stop()
            timer.deleteLater()
            then()

    timer.timeout.connect(check)
    timer.start(FIRST_PIXELS_POLL_MS)


def run_app(files: list[str] | None = None) -> int:
    problem = display_problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_NO_DISPLAY
    app, _window = start(files)
    return app.exec()
