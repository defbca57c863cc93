"""Dataset mode: inputs + references paired by name, stepped through with the same methods,
and the metrics table over the whole set computed in the background."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog

from isp_viewer.core.errors import IspViewerError
from isp_viewer.core.methods import ClassicalMethod, FileMethod, NetworkMethod
from isp_viewer.export import method_images as methods
from isp_viewer.metrics.evaluation import load_pair
from isp_viewer.ui.window_matrix import MatrixMode


class DatasetMode(MatrixMode):
    """Part of MainWindow (ui.main_window), which holds the state these methods share."""

    def open_dataset_dialog(self) -> None:
        from PySide6.QtWidgets import QInputDialog

        inputs = QFileDialog.getExistingDirectory(self, "Folder of inputs")
        if not inputs:
            return
        refs = QFileDialog.getExistingDirectory(self, "Folder of references (matched by file name)")
        if not refs:
            return
        choices = ["RGB: simulate a GRBG mosaic", "RGB: simulate an RGGB mosaic", "used as they are (RAW or images)"]
        cfa, ok = QInputDialog.getItem(self, "Inputs", "Inputs are", choices, 0, False)
        if ok:
            self.open_dataset(inputs, refs, cfa.split()[3] if cfa.startswith("RGB") else None)

    def open_dataset(self, inputs_dir: str, refs_dir: str, simulate_cfa: str | None = "GRBG") -> int:
        """Pair files by name and show the first pair; returns the number of pairs."""
        from isp_viewer.metrics import match_by_name

        try:
            pairs = match_by_name(inputs_dir, refs_dir)
        except IspViewerError as err:
            self.show_error(str(err))
            return 0
        self.dataset = {"pairs": pairs, "index": 0, "cfa": simulate_cfa, "inputs": str(inputs_dir),
                        "recipe": list(methods.DEFAULT_DATASET_RECIPE)}
        self.reset_matrix()
        self.show_dataset_item(0)
        return len(pairs)

    def _current_recipe(self) -> list[tuple[str, str]]:
        recipe = [("classical", it.method.algorithm) if isinstance(it.method, ClassicalMethod)
                  else ("network", it.method.model_id)
                  for it in self.session.items.values() if isinstance(it.method, (ClassicalMethod, NetworkMethod))]
        return recipe or self.dataset["recipe"]

    def show_dataset_item(self, index: int) -> None:
        """Replace the panes with pair `index` (go to image i): its reference plus the same methods as now."""
        ds = self.dataset
        ds["recipe"] = self._current_recipe() if self.session.items else ds["recipe"]
        ds["index"] = index % len(ds["pairs"])
        stem, input_path, ref_path = ds["pairs"][ds["index"]]
        for item_id in list(self.session.items):
            self.session.remove_item(item_id)
        self.session.sources.clear()
        self.session.set_reference(None)
        ref_item = self.session.add_item(f"{stem} · reference", str(ref_path), FileMethod(ground_truth=True))
        self.statusBar().showMessage(f"dataset image {ds['index'] + 1} / {len(ds['pairs'])}: {stem}", 8000)

        def ready(result, ref_id=ref_item.id):
            reference, source = result
            self.session.sources[str(input_path)] = source
            self._set_models_source(source)
            self._set_ready(ref_id, reference, f"{stem} · reference")
            self.session.set_reference(ref_id)
            for kind, name in ds["recipe"]:
                if kind == "classical":
                    self.add_classical(name, source)
                else:
                    self.add_network(name, source)

        self.bridge.submit(lambda: load_pair(input_path, ref_path, ds["cfa"]), ready,
                           lambda err, i=ref_item.id: self._failed(i, err))

    def step_dataset(self, step: int) -> None:
        if getattr(self, "dataset", None):
            self.show_dataset_item(self.dataset["index"] + step)

    def compute_dataset_table(self) -> None:
        """The matrix over every pair (ui.window_matrix), shown as the table and the metrics rows."""
        self.compute_matrix()

    def _show_dataset_table(self, table) -> None:
        self.dataset_result = table
        rows = []
        from isp_viewer.ui.analysis_jobs import MetricRow

        for m in table.methods:
            psnr, ssim = table.mean(m, "PSNR"), table.mean(m, "SSIM")
            note = (f"mean ± std over {table.count(m, 'PSNR')} images: "
                    f"±{table.std(m, 'PSNR'):.2f} dB, ±{table.std(m, 'SSIM'):.4f}")
            rows.append(MetricRow(-1, m, psnr, ssim, note))
        self.analysis.set_rows(rows, f"dataset of {len(table.images)} images")
        self.statusBar().showMessage(
            f"dataset table ready: {len(table.methods)} methods × {len(table.images)} images", 8000)
