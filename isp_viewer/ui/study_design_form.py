"""The study design form of the study panel: methods to rate, protocol, reference and timing.

It knows the methods on offer (from the owner's panes); `design(crops)` turns its controls into
a StudyDesign. The crops come from the panel, which owns the crops table.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from isp_viewer.study.crops import Crop
from isp_viewer.study.design import Method, Protocol, ReferenceMode, StudyDesign, methods_from_pairs


class StudyDesignForm(QGroupBox):
    """Checkable method list above a form (the dock is narrow) for the other design fields."""

    def __init__(self, methods: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__("Study design", parent)
        self.methods = list(methods_from_pairs(methods))
        h = QVBoxLayout(self)
        self.method_list = QListWidget()
        for m in self.methods:
            self.method_list.addItem(self._method_item(m, checked=True))
        self.method_list.setMaximumHeight(130)
        h.addWidget(QLabel("Methods to rate (from the open panes)"))
        h.addWidget(self.method_list)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.name_edit = QLineEdit("Study")
        self.protocol_combo = QComboBox()
        for p, text in ((Protocol.ACR, "ACR, 1 Bad – 5 Excellent"), (Protocol.DCR, "DCR vs reference"),
                        (Protocol.PAIRWISE, "Pairwise 2AFC")):
            self.protocol_combo.addItem(text, p.value)
        self.protocol_combo.currentIndexChanged.connect(self._on_protocol_changed)
        self.reference_combo = QComboBox()
        self.reference_combo.addItem("(none)", None)
        for m in self.methods:
            self.reference_combo.addItem(m.label, m.id)
        self.reference_shown = QCheckBox("Show the reference")
        self.reference_shown.setToolTip("Shown beside each test image; otherwise hidden among the rated images")
        self.repetitions = QSpinBox()
        self.repetitions.setRange(1, 20)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2_000_000_000)
        self.zoom = QSpinBox()
        self.zoom.setRange(1, 16)
        self.zoom.setValue(2)
        self.zoom.setSuffix("×")
        self.zoom.setToolTip("integer nearest-neighbour zoom of the crops")
        self.grey = QDoubleSpinBox()
        self.grey.setRange(0.0, 10.0)
        self.grey.setSingleStep(0.25)
        self.grey.setValue(1.0)
        self.grey.setSuffix(" s")
        for label, w in (("Name", self.name_edit), ("Protocol", self.protocol_combo),
                         ("Reference", self.reference_combo), ("", self.reference_shown),
                         ("Repetitions", self.repetitions), ("Seed", self.seed),
                         ("Zoom", self.zoom), ("Grey gap", self.grey)):
            form.addRow(label, w)
        h.addLayout(form)

    @staticmethod
    def _method_item(method: Method, checked: bool) -> QListWidgetItem:
        item = QListWidgetItem(method.label)
        item.setData(Qt.ItemDataRole.UserRole, method.id)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        return item

    def _checked_ids(self) -> set[str]:
        return {self.method_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.method_list.count())
                if self.method_list.item(i).checkState() == Qt.CheckState.Checked}

    def _on_protocol_changed(self) -> None:
        # DCR compares each image with a reference: choose one and show it.
        if Protocol(self.protocol_combo.currentData()) is Protocol.DCR:
            self.reference_shown.setChecked(True)
            if self.reference_combo.currentData() is None and self.reference_combo.count() > 1:
                self.reference_combo.setCurrentIndex(1)

    def set_protocol(self, protocol: Protocol) -> None:
        self.protocol_combo.setCurrentIndex(self.protocol_combo.findData(Protocol(protocol).value))

    def set_methods(self, methods: Sequence[tuple[str, str]]) -> None:
        """Replace the methods on offer (the owner's panes changed); keeps the check marks it can."""
        checked = self._checked_ids()
        known = {m.id for m in self.methods}
        self.methods = list(methods_from_pairs(methods))
        self.method_list.clear()
        current_ref = self.reference_combo.currentData()
        self.reference_combo.clear()
        self.reference_combo.addItem("(none)", None)
        for m in self.methods:
            self.method_list.addItem(self._method_item(m, checked=m.id in checked or m.id not in known))
            self.reference_combo.addItem(m.label, m.id)
        index = self.reference_combo.findData(current_ref)
        self.reference_combo.setCurrentIndex(max(index, 0))

    def set_checked_methods(self, method_ids: Sequence[str]) -> None:
        for i in range(self.method_list.count()):
            item = self.method_list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in method_ids
                               else Qt.CheckState.Unchecked)

    def design(self, crops: Sequence[Crop]) -> StudyDesign:
        """The design the controls describe for `crops` (raises InputError with a user-facing message)."""
        chosen = self._checked_ids()
        ref_id = self.reference_combo.currentData()
        reference = next((m for m in self.methods if m.id == ref_id), None)
        mode = ReferenceMode.NONE if reference is None else (
            ReferenceMode.SHOWN if self.reference_shown.isChecked() else ReferenceMode.HIDDEN)
        methods = tuple(m for m in self.methods if m.id in chosen and not (
            mode is ReferenceMode.HIDDEN and reference is not None and m.id == reference.id))
        return StudyDesign(tuple(crops), methods, Protocol(self.protocol_combo.currentData()), reference, mode,
                           self.repetitions.value(), self.seed.value(), self.zoom.value(), self.grey.value(),
                           name=self.name_edit.text().strip() or "Study")
