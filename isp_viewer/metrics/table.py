"""Metric values for methods x images, kept together with the convention that produced them."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from isp_viewer.metrics.convention import Convention

# Which way is better, for sorting and for bolding the best value in LaTeX.
HIGHER_IS_BETTER = {"PSNR": True, "SSIM": True, "MS-SSIM": True, "FLIP": False}
DECIMALS = {"PSNR": 2, "SSIM": 4, "MS-SSIM": 4, "FLIP": 4}


@dataclass(frozen=True, eq=False)
class MetricTable:
    """values[i, j, k]: metric k of method i on image j (NaN where not measured).

    Means and standard deviations are over the images a method was measured on; the standard
    deviation is the sample one (n - 1), NaN for a single image. An identical pair scores
    PSNR = inf, which then makes the method's PSNR mean inf as well.
    """

    convention: Convention
    methods: tuple[str, ...]
    images: tuple[str, ...]
    metrics: tuple[str, ...]
    values: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        vals = np.array(self.values, dtype=np.float64)
        shape = (len(self.methods), len(self.images), len(self.metrics))
        if vals.shape != shape:
            raise ValueError(f"values must have shape {shape}, got {vals.shape}")
        vals.setflags(write=False)
        object.__setattr__(self, "values", vals)

    @classmethod
    def from_records(cls, convention: Convention,
                     records: Iterable[tuple[str, str, Mapping[str, float]]]) -> MetricTable:
        """Build from (method, image, {metric: value}) records; order of first appearance is kept."""
        records = list(records)
        methods = _unique(r[0] for r in records)
        images = _unique(r[1] for r in records)
        metrics = _unique(m for r in records for m in r[2])
        vals = np.full((len(methods), len(images), len(metrics)), np.nan)
        for method, image, scores in records:
            for metric, value in scores.items():
                vals[methods.index(method), images.index(image), metrics.index(metric)] = value
        return cls(convention, tuple(methods), tuple(images), tuple(metrics), vals)

    def value(self, method: str, image: str, metric: str) -> float:
        return float(self.values[self.methods.index(method), self.images.index(image),
                                 self.metrics.index(metric)])

    def mean(self, method: str, metric: str) -> float:
        col = self._column(method, metric)
        return float(np.mean(col)) if col.size else math.nan

    def std(self, method: str, metric: str) -> float:
        col = self._column(method, metric)
        if col.size < 2 or not np.all(np.isfinite(col)):
            return math.nan
        return float(np.std(col, ddof=1))

    def count(self, method: str, metric: str) -> int:
        return int(self._column(method, metric).size)

    def summary(self) -> dict[str, dict[str, tuple[float, float]]]:
        """{method: {metric: (mean, std)}}."""
        return {m: {k: (self.mean(m, k), self.std(m, k)) for k in self.metrics} for m in self.methods}

    def sorted(self, metric: str, best_first: bool = True) -> MetricTable:
        """A copy with methods ordered by their mean `metric` (best first by default)."""
        higher = HIGHER_IS_BETTER.get(metric, True)
        means = np.array([self.mean(m, metric) for m in self.methods])
        key = -means if higher == best_first else means
        key = np.where(np.isnan(key), np.inf, key)  # methods without the metric go last
        order = np.argsort(key, kind="stable")
        return MetricTable(self.convention, tuple(self.methods[i] for i in order), self.images,
                           self.metrics, self.values[order])

    def caption(self) -> str:
        n = len(self.images)
        return (f"{self.convention.name}: {self.convention.describe()}. "
                f"Mean \u00b1 sample std over {n} image{'s' if n != 1 else ''}.")

    def to_csv(self, path: str | None = None) -> str:
        """One row per (method, image), then mean and std rows per method; every row carries the
        convention so the file cannot be separated from its settings. Returns the text and
        writes it to `path` when given."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["method", "image", *self.metrics, "convention"])
        conv = self.convention.describe()
        for i, method in enumerate(self.methods):
            for j, image in enumerate(self.images):
                writer.writerow([method, image, *(_csv_number(v) for v in self.values[i, j]), conv])
            writer.writerow([method, "mean", *(_csv_number(self.mean(method, k)) for k in self.metrics), conv])
            writer.writerow([method, "std", *(_csv_number(self.std(method, k)) for k in self.metrics), conv])
        text = buf.getvalue()
        if path is not None:
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
        return text

    def to_latex(self, label: str = "tab:metrics") -> str:
        """A booktabs table of mean \u00b1 std per method and metric, best mean in bold, with the
        convention in the caption."""
        cols = "l" + "c" * len(self.metrics)
        arrows = {True: "$\\uparrow$", False: "$\\downarrow$"}
        header = " & ".join(["Method", *(f"{_tex(k)} {arrows[HIGHER_IS_BETTER.get(k, True)]}"
                                         for k in self.metrics)])
        best = {k: self._best_mean(k) for k in self.metrics}
        lines = ["\\begin{table}[t]", "\\centering", f"\\begin{{tabular}}{{{cols}}}", "\\toprule",
                 header + " \\\\", "\\midrule"]
        for method in self.methods:
            cells = [_tex(method)]
            for k in self.metrics:
                mean, std = self.mean(method, k), self.std(method, k)
                cell = _fmt(mean, k) + ("" if math.isnan(std) else f" $\\pm$ {_fmt(std, k)}")
                if best[k] is not None and mean == best[k]:
                    cell = f"\\textbf{{{cell}}}"
                cells.append(cell)
            lines.append(" & ".join(cells) + " \\\\")
        lines += ["\\bottomrule", "\\end{tabular}", f"\\caption{{{_tex(self.caption())}}}",
                  f"\\label{{{label}}}", "\\end{table}"]
        return "\n".join(lines) + "\n"

    def _column(self, method: str, metric: str) -> np.ndarray:
        col = self.values[self.methods.index(method), :, self.metrics.index(metric)]
        return col[~np.isnan(col)]

    def _best_mean(self, metric: str) -> float | None:
        means = [self.mean(m, metric) for m in self.methods]
        finite = [v for v in means if not math.isnan(v)]
        if len(finite) < 2:
            return None
        return max(finite) if HIGHER_IS_BETTER.get(metric, True) else min(finite)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _csv_number(v: float) -> str:
    return "" if math.isnan(v) else repr(float(v))


def _fmt(v: float, metric: str) -> str:
    if math.isnan(v):
        return "--"
    if math.isinf(v):
        return "$\\infty$"
    return f"{v:.{DECIMALS.get(metric, 4)}f}"


_TEX_ESCAPES = {"\\": "\\textbackslash{}", "&": "\\&", "%": "\\%", "$": "\\$", "#": "\\#",
                "_": "\\_", "{": "\\{", "}": "\\}", "~": "\\textasciitilde{}", "^": "\\textasciicircum{}",
                "\u00b1": "$\\pm$"}


def _tex(text: str) -> str:
    return "".join(_TEX_ESCAPES.get(ch, ch) for ch in text)
