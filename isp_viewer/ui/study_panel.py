"""The researcher's side of a MOS study: crops and notes, the design, running sessions, analysis, export.

The owner (main window) gives the panel the project store, an image provider
`(method_id, region) -> HxWx3 float32` and the available methods as (id, label) pairs, and adds
crops from its ROIs with `add_crop`. Crop edits are written to the store the moment they happen.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from isp_viewer.core.errors import IspViewerError
from isp_viewer.core.region import Region
from isp_viewer.study.analysis import StudyAnalysis, analyse
from isp_viewer.study.crops import CROP_TAGS, Crop
from isp_viewer.study.design import ImageProvider, Method, Protocol, StudyDesign
from isp_viewer.study.exports import write_analysis_csv, write_pwcmp_matrix, write_ratings_csv, write_sureal_dataset
from isp_viewer.study.package import load_study, save_study
from isp_viewer.study.store import StudyStore
from isp_viewer.ui.study_design_form import StudyDesignForm
from isp_viewer.ui.study_results import StudyResultsView
from isp_viewer.ui.study_runner import StudyRunnerWindow

_CURRENT = "__current__"   # study selector entry: the design the controls describe
_COL_USE, _COL_NAME, _COL_TAG, _COL_NOTE, _COL_REGION = range(5)


class StudyPanel(QWidget):
    """Crops table, design controls, Run session / Analyse / Export, and the analysis view."""

    runner_opened = Signal(object)     # the StudyRunnerWindow just shown
    analysed = Signal(object)          # the StudyAnalysis just shown

    def __init__(self, store: StudyStore, image_provider: ImageProvider, methods: Sequence[tuple[str, str]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.image_provider = image_provider
        self.runner: StudyRunnerWindow | None = None
        self.last_analysis: StudyAnalysis | None = None
        self._excluded_crops: set[str] = set()
        self._providers: dict[str, ImageProvider] = {}   # study id -> provider of an imported package
        self._loading = False

        root = QVBoxLayout(self)
        root.addWidget(self._build_crops())
        root.addWidget(self._build_design(methods))
        root.addLayout(self._build_actions())
        self.status = QLabel("")
        self.status.setWordWrap(True)
        root.addWidget(self.status)
        root.addWidget(self._build_results(), 1)
        self.refresh_crops()
        self.refresh_studies()

    # ------------------------------------------------------------------------ crops
    def _build_crops(self) -> QGroupBox:
        box = QGroupBox("Crops")
        v = QVBoxLayout(box)
        self.crop_table = QTableWidget(0, 5)
        self.crop_table.setHorizontalHeaderLabels(["Use", "Name", "Tag", "Note", "Region (x, y, w, h)"])
        header = self.crop_table.horizontalHeader()
        header.setSectionResizeMode(_COL_NOTE, QHeaderView.ResizeMode.Stretch)
        self.crop_table.setColumnWidth(_COL_USE, 40)
        self.crop_table.setColumnWidth(_COL_TAG, 120)
        self.crop_table.setMaximumHeight(180)
        self.crop_table.verticalHeader().setVisible(False)
        self.crop_table.itemChanged.connect(self._on_crop_item_changed)
        v.addWidget(self.crop_table)
        row = QHBoxLayout()
        self.delete_crop_button = QPushButton("Delete crop")
        self.delete_crop_button.clicked.connect(self._delete_selected_crop)
        row.addStretch(1)
        row.addWidget(self.delete_crop_button)
        v.addLayout(row)
        return box

    def add_crop(self, region: Region, name: str | None = None, tag: str = "other", note: str = "") -> Crop:
        """Add a crop (e.g. from an ROI of the main window); written to the store at once."""
        crop = self.store.add_crop(name or f"Crop {len(self.store.crops()) + 1}", region, tag, note)
        self.refresh_crops()
        return crop

    def refresh_crops(self) -> None:
        self._loading = True
        try:
            crops = self.store.crops()
            # Old tag combos are only deleted later by Qt; hide them now so they never paint stale.
            for r in range(self.crop_table.rowCount()):
                old = self.crop_table.cellWidget(r, _COL_TAG)
                if old is not None:
                    old.hide()
            self.crop_table.setRowCount(0)
            self.crop_table.setRowCount(len(crops))
            for r, crop in enumerate(crops):
                use = QTableWidgetItem()
                use.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
                use.setCheckState(Qt.CheckState.Unchecked if crop.id in self._excluded_crops
                                  else Qt.CheckState.Checked)
                use.setData(Qt.ItemDataRole.UserRole, crop.id)
                self.crop_table.setItem(r, _COL_USE, use)
                self.crop_table.setItem(r, _COL_NAME, QTableWidgetItem(crop.name))
                self.crop_table.setItem(r, _COL_NOTE, QTableWidgetItem(crop.note))
                region = QTableWidgetItem(", ".join(map(str, crop.region.as_tuple())))
                region.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                self.crop_table.setItem(r, _COL_REGION, region)
                tag = QComboBox()
                tag.addItems(CROP_TAGS)
                tag.setCurrentText(crop.tag)
                tag.currentTextChanged.connect(lambda text, cid=crop.id: self._retag(cid, text))
                self.crop_table.setCellWidget(r, _COL_TAG, tag)
        finally:
            self._loading = False

    def _crop_id_at(self, row: int) -> str:
        return self.crop_table.item(row, _COL_USE).data(Qt.ItemDataRole.UserRole)

    def _on_crop_item_changed(self, item: QTableWidgetItem) -> None:
        if self._loading:
            return
        cid = self._crop_id_at(item.row())
        try:
            if item.column() == _COL_NAME:
                self.store.rename_crop(cid, item.text())
            elif item.column() == _COL_NOTE:
                self.store.set_crop_note(cid, item.text())
            elif item.column() == _COL_USE:
                if item.checkState() == Qt.CheckState.Checked:
                    self._excluded_crops.discard(cid)
                else:
                    self._excluded_crops.add(cid)
        except IspViewerError as e:
            self.status.setText(str(e))

    def _retag(self, crop_id: str, tag: str) -> None:
        if not self._loading:
            self.store.retag_crop(crop_id, tag)

    def _delete_selected_crop(self) -> None:
        row = self.crop_table.currentRow()
        if row >= 0:
            self.store.delete_crop(self._crop_id_at(row))
            self.refresh_crops()

    # ------------------------------------------------------------------------ design
    def _build_design(self, methods: Sequence[tuple[str, str]]) -> StudyDesignForm:
        self.design_form = form = StudyDesignForm(methods)
        # The form's controls stay reachable as the panel's own (the owner and tests set them).
        self.method_list, self.name_edit, self.protocol_combo = form.method_list, form.name_edit, form.protocol_combo
        self.reference_combo, self.reference_shown = form.reference_combo, form.reference_shown
        self.repetitions, self.seed, self.zoom, self.grey = form.repetitions, form.seed, form.zoom, form.grey
        return form

    @property
    def methods(self) -> list[Method]:
        """The methods on offer (from the owner's panes)."""
        return self.design_form.methods

    def set_protocol(self, protocol: Protocol) -> None:
        self.design_form.set_protocol(protocol)

    def set_methods(self, methods: Sequence[tuple[str, str]]) -> None:
        """Replace the methods on offer (the owner's panes changed); keeps the check marks it can."""
        self.design_form.set_methods(methods)

    def set_checked_methods(self, method_ids: Sequence[str]) -> None:
        self.design_form.set_checked_methods(method_ids)

    def design_from_controls(self) -> StudyDesign:
        """The design the controls describe (raises InputError with a user-facing message)."""
        crops = [c for c in self.store.crops() if c.id not in self._excluded_crops]
        return self.design_form.design(crops)

    # ------------------------------------------------------------------------ studies
    def refresh_studies(self) -> None:
        current = self.study_combo.currentData() or _CURRENT
        self.study_combo.blockSignals(True)
        self.study_combo.clear()
        self.study_combo.addItem("Current settings", _CURRENT)
        for d in self.store.studies():
            n = len(self.store.sessions(d.study_id))
            self.study_combo.addItem(f"{d.name} — {d.protocol.value}, {n} session(s) [{d.study_id[:6]}]", d.study_id)
        index = self.study_combo.findData(current)
        self.study_combo.setCurrentIndex(max(index, 0))
        self.study_combo.blockSignals(False)

    def selected_design(self) -> StudyDesign:
        sid = self.study_combo.currentData()
        return self.design_from_controls() if sid in (None, _CURRENT) else self.store.study(sid)

    def select_study(self, study_id: str) -> None:
        self.refresh_studies()
        self.study_combo.setCurrentIndex(max(self.study_combo.findData(study_id), 0))

    # ------------------------------------------------------------------------ actions
    def _build_actions(self) -> QVBoxLayout:
        col = QVBoxLayout()
        top = QHBoxLayout()
        self.study_combo = QComboBox()
        self.study_combo.setMinimumContentsLength(12)
        self.study_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        top.addWidget(QLabel("Study"))
        top.addWidget(self.study_combo, 1)
        col.addLayout(top)
        grid = QGridLayout()
        for i, (text, slot, attr) in enumerate((("Run session", self._run_clicked, "run_button"),
                                 ("Analyse", self._analyse_clicked, "analyse_button"),
                                 ("Export CSV…", self._export_clicked, "export_button"),
                                 ("Import study…", self._import_clicked, "import_button"),
                                 ("Export study…", self._export_study_clicked, "export_study_button"))):
            b = QPushButton(text)
            b.clicked.connect(lambda _checked=False, f=slot: f())
            setattr(self, attr, b)
            grid.addWidget(b, i // 3, i % 3)
        col.addLayout(grid)
        return col

    def run_session(self, observer_id: str = "", *, show: bool = True) -> StudyRunnerWindow | None:
        """Save the selected design and open a runner on it (None with a message if invalid)."""
        try:
            design = self.selected_design()
        except IspViewerError as e:
            self.status.setText(str(e))
            return None
        self.store.save_study(design)
        provider = self._providers.get(design.study_id, self.image_provider)
        self.runner = StudyRunnerWindow(self.store, design, provider, observer_id=observer_id)
        self.runner.finished.connect(self.refresh_studies)
        if show:
            self.runner.show()
        self.status.setText(f"Session window opened for study {design.name!r} ({design.n_test_trials} trials "
                            "per observer)")
        self.runner_opened.emit(self.runner)
        return self.runner

    def analyse(self) -> StudyAnalysis | None:
        try:
            design = self.selected_design()
        except IspViewerError as e:
            self.status.setText(str(e))
            return None
        records = self.store.ratings(design.study_id)
        if not records:
            self.status.setText(f"No ratings yet for study {design.name!r}")
            return None
        result = analyse(design, records)
        self.last_analysis = result
        self.status.setText(f"Study {design.name!r}: {len(records)} answers from {len(result.observers)} observer(s)")
        self._show_analysis(design, result)
        self.analysed.emit(result)
        return result

    def export_csv(self, path: str | Path) -> list[Path]:
        """Write the ratings (long CSV at `path`) and, beside it, the analysis table and a sureal
        dataset (ACR/DCR) or a pwcmp matrix (pairwise). Returns the files written."""
        design = self.selected_design()
        path = Path(path)
        records = self.store.ratings(design.study_id, include_training=True)
        write_ratings_csv(path, records)
        written = [path]
        tests = [r for r in records if not r.training]
        if tests:
            table = path.with_name(path.stem + "_analysis.csv")
            write_analysis_csv(table, design, analyse(design, tests))
            written.append(table)
            if design.protocol is Protocol.PAIRWISE:
                extra = path.with_name(path.stem + "_pwcmp.csv")
                write_pwcmp_matrix(extra, design, tests)
            else:
                extra = path.with_name(path.stem + "_sureal.py")
                write_sureal_dataset(extra, design, tests)
            written.append(extra)
        self.status.setText("Exported " + ", ".join(p.name for p in written))
        return written

    def import_study(self, path: str | Path) -> StudyDesign:
        """Load a .json/.ispstudy study into the project and select it."""
        design, provider = load_study(path)
        self.store.save_study(design)
        if provider is not None:
            self._providers[design.study_id] = provider
        self.select_study(design.study_id)
        self.status.setText(f"Imported study {design.name!r}")
        return design

    def export_study(self, path: str | Path) -> Path:
        design = self.selected_design()
        out = save_study(path, design, self._providers.get(design.study_id, self.image_provider))
        self.status.setText(f"Study written to {out.name}")
        return out

    # Buttons: thin wrappers that ask for files and report errors in the status line.
    def _run_clicked(self) -> None:
        self.run_session()

    def _analyse_clicked(self) -> None:
        self.analyse()

    def _export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export ratings", "ratings.csv", "CSV (*.csv)")
        if path:
            self._guarded(self.export_csv, path)

    def _import_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import study", "", "Studies (*.ispstudy *.json)")
        if path:
            self._guarded(self.import_study, path)

    def _export_study_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export study", "study.ispstudy",
                                              "Self-contained study (*.ispstudy);;Design only (*.json)")
        if path:
            self._guarded(self.export_study, path)

    def _guarded(self, fn, *args) -> None:
        try:
            fn(*args)
        except (IspViewerError, OSError) as e:
            self.status.setText(str(e))

    # ------------------------------------------------------------------------ results
    def _build_results(self) -> QWidget:
        self.results = StudyResultsView()
        self.results_table, self.rejected_label, self.plot = self.results.table, self.results.rejected_label, \
            self.results.plot
        return self.results

    def _show_analysis(self, design: StudyDesign, a: StudyAnalysis) -> None:
        self.results.show_analysis(design, a)
