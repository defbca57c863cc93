from __future__ import annotations

import pytest

pytest.importorskip("PySide6", reason="GUI tests need PySide6")


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    import pyqtgraph as pg

    from isp_viewer.ui.main_window import MainWindow

    monkeypatch.setenv("HOME", str(tmp_path))   # QSettings (recent files) stay out of the user's home
    monkeypatch.setenv("ISPV_STUDY_DB", str(tmp_path / "study.sqlite"))
    pg.setConfigOptions(imageAxisOrder="row-major")
    win = MainWindow()
    win.resize(1200, 800)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.bridge.shutdown()


def wait_idle(qtbot, win, timeout=60000):
    """No work in the workers and none about to start (the throttled analysis and display timers)."""
    def idle() -> bool:
        return (win.bridge.pending == 0 and not win._analysis_timer.isActive()
                and not win._display_timer.isActive())

    qtbot.waitUntil(idle, timeout=timeout)
    qtbot.waitUntil(idle, timeout=timeout)   # again: a finished job may have started the timers
