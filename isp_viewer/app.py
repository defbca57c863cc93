"""Start the Qt application (the only place besides ui/ that touches Qt)."""

from __future__ import annotations

import sys


def run_app(files: list[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication
    import pyqtgraph as pg

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ISP Viewer")
    from isp_viewer.ui.main_window import MainWindow

    window = MainWindow()
    window.show()
    if files:
        window.open_files(list(files))
    else:
        window.open_demo()
    return app.exec()
