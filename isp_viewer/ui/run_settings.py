"""The model panel's run settings: device, precision, tile size and the noise level for networks
that take one, with the choices this machine cannot make greyed out and the placement the engine
will use."""


from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QLabel, QSpinBox, QWidget

from isp_viewer.engine.devices import choose_device
from isp_viewer.engine.run_requests import DEVICES, GREY, PRECISIONS

NOISE_TIP = ("Noise standard deviation in 1/255 units for networks that take a noise level (Kokkinos MMNet). "
             "Auto: the network's own estimate (the noisy model's wavelet MAD) or its default. "
             "The value is stated in the result's label.")


class RunSettings:
    """Part of ModelPanel (ui.model_panel): the device / precision / tile controls."""

    def _build_settings(self) -> QWidget:
        box = QGroupBox("Run settings")
        form = QFormLayout(box)
        form.setContentsMargins(6, 4, 6, 4)
        self.device_combo = QComboBox()
        for text, value in DEVICES:
            self.device_combo.addItem(text, value)
        self.precision_combo = QComboBox()
        for text, value in PRECISIONS:
            self.precision_combo.addItem(text, value)
        self.tile_spin = QSpinBox()
        self.tile_spin.setRange(0, 8192)
        self.tile_spin.setSingleStep(64)
        self.tile_spin.setSpecialValueText("Auto")
        self.tile_spin.setSuffix(" px")
        self.tile_spin.setToolTip("Core tile side in input pixels (Auto: the device's default). "
                                  "Tiles shrink by themselves after an out-of-memory.")
        self.noise_spin = QDoubleSpinBox()
        self.noise_spin.setRange(0.0, 255.0)
        self.noise_spin.setDecimals(1)
        self.noise_spin.setSingleStep(0.5)
        self.noise_spin.setSpecialValueText("Auto")
        self.noise_spin.setSuffix(" /255")
        self.noise_spin.setToolTip(NOISE_TIP)
        self.noise_spin.setEnabled(False)
        self.placement_label = QLabel()
        self.placement_label.setStyleSheet(GREY + " font-size: 10px;")
        self.placement_label.setWordWrap(True)
        form.addRow("Device", self.device_combo)
        form.addRow("Precision", self.precision_combo)
        form.addRow("Tile size", self.tile_spin)
        form.addRow("Noise σ", self.noise_spin)
        form.addRow(self.placement_label)
        self.device_combo.currentIndexChanged.connect(lambda _i: self._update_device_choices())
        self.precision_combo.currentIndexChanged.connect(lambda _i: self._update_placement_label())
        return box

    def device_request(self) -> str:
        return str(self.device_combo.currentData())

    def precision_request(self) -> str:
        return str(self.precision_combo.currentData())

    def tile_size(self) -> int | None:
        return self.tile_spin.value() or None

    def noise_sigma(self) -> float | None:
        """The noise std (of 255) given to networks that take one; None: their own estimate/default."""
        return self.noise_spin.value() or None

    def _update_noise_field(self, specs) -> None:
        """Enabled while a ticked network takes a noise level (its descriptor's noise_sigma option)."""
        takers = [spec.name for spec in specs if "noise_sigma" in spec.options]
        self.noise_spin.setEnabled(bool(takers))
        self.noise_spin.setToolTip(NOISE_TIP + (f"\nTaken by: {', '.join(takers)}" if takers
                                                else "\nNone of the ticked networks takes a noise level."))

    def _device_missing(self, value: str) -> str | None:
        if value == "cuda" and not self.devices.cuda:
            return "No CUDA GPU found by torch (or this torch build has no CUDA)"
        if value == "mps" and not self.devices.mps:
            return "No Apple MPS device found by torch"
        return None

    def _set_item_enabled(self, combo: QComboBox, index: int, why_not: str | None, tip: str = "") -> None:
        item = combo.model().item(index)
        item.setEnabled(why_not is None)
        combo.setItemData(index, why_not or tip, Qt.ItemDataRole.ToolTipRole)

    def _update_device_choices(self) -> None:
        for i, (_text, value) in enumerate(DEVICES):
            self._set_item_enabled(self.device_combo, i, self._device_missing(value))
        if self._device_missing(self.device_request()):
            self.device_combo.setCurrentIndex(0)
            return  # the index change calls back here
        device, _why = choose_device(self.device_request(), self.devices)
        for i, (_text, value) in enumerate(PRECISIONS):
            why_not = None
            if value in ("fp16", "bf16") and device == "cpu":
                why_not = "The CPU runs fp32"
            elif value == "bf16" and not (self.devices.cuda_bf16 if device == "cuda" else self.devices.mps_bf16):
                why_not = f"This {device.upper()} device lacks bf16"
            tip = "Half precision only for networks whose descriptor allows it; others run fp32" \
                if value in ("fp16", "bf16") else ""
            self._set_item_enabled(self.precision_combo, i, why_not, tip)
        current = self.precision_combo.currentIndex()
        if not self.precision_combo.model().item(current).isEnabled():
            self.precision_combo.setCurrentIndex(0)
        self._update_placement_label()

    def _update_placement_label(self) -> None:
        device, why = choose_device(self.device_request(), self.devices)
        precision = self.precision_request()
        if device == "cpu":
            dtype = "fp32"
        elif precision == "auto":
            dtype = "fp16/bf16 where the network allows it, else fp32"
        else:
            dtype = f"{precision} where the network allows it, else fp32"
        self.placement_label.setText(f"Runs on {device.upper()} ({why}) · {dtype}")
