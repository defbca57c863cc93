"""The core never imports Qt: checked by import-linter contracts and by a clean interpreter."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORE = ["core", "io", "models", "engine", "metrics", "analysis", "study", "export", "cli"]


def test_import_linter_contracts():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(exe).exists():
        pytest.fail("lint-imports (import-linter) is not installed; it is a test dependency")
    proc = subprocess.run([exe], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_core_imports_without_qt():
    mods = []
    for pkg in CORE:
        base = REPO / "isp_viewer" / (pkg if pkg != "cli" else "")
        files = [REPO / "isp_viewer/cli.py"] if pkg == "cli" else sorted(base.rglob("*.py"))
        for f in files:
            rel = f.relative_to(REPO).with_suffix("")
            mods.append(".".join(p for p in rel.parts if p != "__init__"))
    code = ("import sys, importlib\n"
            f"for m in {mods!r}: importlib.import_module(m)\n"
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'isp_viewer.ui'))]\n"
            "assert not bad, bad\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
