"""The data-set matrix: images x methods x metrics as content-keyed cells in a resumable SQLite
store, computed locally through the engine or on a Ray cluster, with worst regions per cell.

Qt-free. The window's entry points: `run_matrix(spec, store, progress=..., cancel=...)` (call it
off the GUI thread), `list_cells(spec, store)` for the table and `cell_regions(spec, store,
row.task_key)` for a cell's worst regions as core Regions.
"""

from isp_viewer.matrix.cells import (
    MATRIX_VERSION,
    Item,
    MatrixSpec,
    Method,
    RegionSpec,
    Task,
    items_from_pairs,
    network_method,
)
from isp_viewer.matrix.recipe import evaluate_recipe, recipe_methods, recipe_spec
from isp_viewer.matrix.report import (
    CellRow,
    cell_regions,
    list_cells,
    long_csv,
    metric_table,
    per_image_json,
    pivot,
    pivot_csv,
    pivot_text,
)
from isp_viewer.matrix.runner import LocalBackend, RunProgress, RunSummary, plan, run_matrix
from isp_viewer.matrix.store import ResultStore, TaskResult, WorstRegion

__all__ = [
    "MATRIX_VERSION", "CellRow", "Item", "LocalBackend", "MatrixSpec", "Method", "RegionSpec", "ResultStore",
    "RunProgress", "RunSummary", "Task", "TaskResult", "WorstRegion", "cell_regions", "evaluate_recipe",
    "items_from_pairs", "list_cells", "long_csv", "metric_table", "network_method", "per_image_json", "pivot",
    "pivot_csv", "pivot_text", "plan", "recipe_methods", "recipe_spec", "run_matrix",
]
