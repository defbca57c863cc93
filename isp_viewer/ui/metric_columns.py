"""The metrics table's chosen columns: which catalogue metrics the window offers, their headers,
and their values for one pane (worker side, no widgets).

PSNR and SSIM stay in MetricRow.psnr / .ssim (the CSV and other tables read them there); every
other chosen metric goes in MetricRow.values. Each metric is computed by itself, so one that
cannot run (a missing LPIPS backbone) leaves the others their numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

from isp_viewer.core.errors import IspViewerError
from isp_viewer.core.region import Region
from isp_viewer.core.session import DEFAULT_METRICS
from isp_viewer.metrics.catalogue import CATALOGUE, metric_evaluator
from isp_viewer.metrics.convention import ArrayLike, Convention

OFFERED = ("PSNR", "SSIM", "MS-SSIM", "dE2000", "zipper", "false-colour", "NIQE", "BRISQUE", "LPIPS", "DISTS")
DEFAULT = DEFAULT_METRICS   # the session's default, so an old session file opens with these
BUILT_IN = ("PSNR", "SSIM")   # MetricRow's own fields


SHORT_HEADERS = {"PSNR": "PSNR dB", "zipper": "zipper %"}   # the dock is narrow; the tooltip has the title


def header(name: str) -> str:
    return SHORT_HEADERS.get(name, name)


def header_tip(name: str, conv: Convention) -> str:
    """The column header's tooltip: what the metric is, which way is better, its convention."""
    info = CATALOGUE[name]
    better = "lower is better" if info.lower_is_better else "higher is better"
    return f"{info.title}: {info.description} ({better})\n{info.convention_text(conv)}"


def cell_text(name: str, value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" if name == "PSNR" else f"{value:.4f}"


def no_reference(names: Sequence[str]) -> tuple[str, ...]:
    return tuple(n for n in names if not CATALOGUE[n].needs_reference)


def full_reference_extra(names: Sequence[str]) -> tuple[str, ...]:
    return tuple(n for n in names if CATALOGUE[n].needs_reference and n not in BUILT_IN)


def metric_values(names: Sequence[str], output: ArrayLike, reference: ArrayLike | None, conv: Convention,
                  region: Region | None = None) -> tuple[dict[str, float | None], list[str]]:
    """{name: value or None} and the reasons of those that could not be computed."""
    values: dict[str, float | None] = {}
    reasons: list[str] = []
    value = metric_evaluator(output, reference, conv, region)   # shared work (PSNR+SSIM, CIELAB) done once
    for name in names:
        try:
            values[name] = value(name)
        except (IspViewerError, ValueError) as err:
            values[name] = None
            reasons.append(str(err))
    return values, reasons
