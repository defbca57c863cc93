"""One catalogue of every metric the CLI, `eval`'s results matrix and the window offer.

Each entry has a name (as tables spell it; look-ups ignore case), a title, whether it needs a
reference, which way is better, a description and the convention text printed beside its value,
and `unavailable()`: "" when it can run here, else the reason to grey it with.
`compute_metrics(names, output, reference, convention)` returns (name, value, convention text)
for each name; `score(...)` is the same as {name: value} (what `eval`'s matrix stores).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple, cast

from isp_viewer.core.errors import InputError
from isp_viewer.core.region import Region
from isp_viewer.metrics.convention import ISP_PAPER, ArrayLike, Convention


class MetricUnavailable(InputError):
    """A metric that cannot run here (missing weights or package); the message says why."""


@dataclass(frozen=True)
class MetricInfo:
    name: str
    title: str
    needs_reference: bool
    lower_is_better: bool
    description: str
    convention: str = ""          # fixed convention text; "" = the PSNR/SSIM Convention's describe()
    backbone: str | None = None   # "alex" / "vgg": needs that torchvision file
    requires: str = ""            # a package whose absence greys the metric

    def unavailable(self, backbones: Mapping[str, str] | None = None) -> str:
        if self.backbone:
            from isp_viewer.metrics.perceptual import unavailable_reason

            return unavailable_reason(self.name.lower() if self.name != "LPIPS" else "lpips-alex",
                                      (backbones or {}).get(self.backbone))
        if self.requires:
            import importlib.util

            if importlib.util.find_spec(self.requires) is None:
                return f"needs the {self.requires} package"
        return ""

    def convention_text(self, conv: Convention) -> str:
        return self.convention or conv.describe()


def _entries() -> tuple[MetricInfo, ...]:
    from isp_viewer.metrics.artifacts import FALSE_COLOUR_CONVENTION, FALSE_COLOUR_EDGES_CONVENTION, ZIPPER_CONVENTION
    from isp_viewer.metrics.brisque import BRISQUE_CONVENTION
    from isp_viewer.metrics.colour_difference import DE2000_CONVENTION, DEITP_CONVENTION
    from isp_viewer.metrics.niqe import NIQE_CONVENTION
    from isp_viewer.metrics.perceptual import DISTS_CONVENTION, LPIPS_CONVENTION

    return (
        MetricInfo("PSNR", "PSNR (dB)", True, False, "peak signal-to-noise ratio, 10 log10(MAX^2/MSE)"),
        MetricInfo("SSIM", "SSIM", True, False, "structural similarity (Wang et al. 2004), 11x11 Gaussian"),
        MetricInfo("MS-SSIM", "MS-SSIM", True, False, "multi-scale SSIM (Wang et al. 2003), 5 scales"),
        MetricInfo("FLIP", "FLIP", True, True, "NVIDIA FLIP perceptual difference of the displayed images",
                   "LDR-FLIP, sRGB display, ~67 px/degree", requires="flip_evaluator"),
        MetricInfo("dE2000", "mean CIEDE2000", True, True, "mean CIEDE2000 colour difference per pixel",
                   DE2000_CONVENTION),
        MetricInfo("dE2000-p95", "95th-percentile CIEDE2000", True, True,
                   "95th percentile of the per-pixel CIEDE2000", DE2000_CONVENTION),
        MetricInfo("dEITP", "mean dE ITP", True, True, "mean ITU-R BT.2124 dE ITP per pixel",
                   DEITP_CONVENTION, requires="colour"),
        MetricInfo("zipper", "zipper (%)", True, True, "share of pixels with zipper effect (Lu & Tan 2003)",
                   ZIPPER_CONVENTION),
        MetricInfo("false-colour", "false colour", True, True, "mean chroma (a*b*) error", FALSE_COLOUR_CONVENTION),
        MetricInfo("false-colour-edges", "false colour on edges", True, True,
                   "mean chroma (a*b*) error near the reference's edges", FALSE_COLOUR_EDGES_CONVENTION),
        MetricInfo("LPIPS", "LPIPS (AlexNet)", True, True, "learned perceptual distance, AlexNet features",
                   LPIPS_CONVENTION.format(net="AlexNet"), backbone="alex"),
        MetricInfo("LPIPS-VGG", "LPIPS (VGG16)", True, True, "learned perceptual distance, VGG16 features",
                   LPIPS_CONVENTION.format(net="VGG16"), backbone="vgg"),
        MetricInfo("DISTS", "DISTS", True, True, "structure and texture similarity distance (Ding et al. 2020)",
                   DISTS_CONVENTION, backbone="vgg"),
        MetricInfo("NIQE", "NIQE", False, True, "no-reference naturalness (Mittal et al. 2013)", NIQE_CONVENTION),
        MetricInfo("BRISQUE", "BRISQUE", False, True, "no-reference spatial quality (Mittal et al. 2012)",
                   BRISQUE_CONVENTION),
    )


CATALOGUE: dict[str, MetricInfo] = {m.name: m for m in _entries()}
METRIC_NAMES: tuple[str, ...] = tuple(CATALOGUE)
ALIASES = {"lpips-alex": "LPIPS", "de00": "dE2000", "false-color": "false-colour",
           "false-color-edges": "false-colour-edges"}
_LOOKUP = {**{n.lower(): n for n in METRIC_NAMES}, **ALIASES}


class MetricValue(NamedTuple):
    name: str
    value: float
    convention: str


def resolve(names: Sequence[str] | str) -> tuple[str, ...]:
    """Catalogue names for user words ("psnr,de2000,lpips"), unknown ones refused in one line."""
    words = names.split(",") if isinstance(names, str) else list(names)
    out = []
    for word in (w.strip() for w in words):
        if not word:
            continue
        if word.lower() not in _LOOKUP:
            raise InputError(f"unknown metric {word!r}; choose from {', '.join(METRIC_NAMES)}")
        out.append(_LOOKUP[word.lower()])
    if not out:
        raise InputError("name at least one metric")
    return tuple(dict.fromkeys(out))


@lru_cache(maxsize=4)
def _perceptual_model(kind: str, path: str):
    from pathlib import Path

    from isp_viewer.metrics.backbones import load_features
    from isp_viewer.metrics.perceptual import Dists, Lpips

    if kind == "dists":
        return Dists(load_features("vgg", Path(path)))
    return Lpips(kind, load_features(kind, Path(path)))


def _perceptual(kind: str, backbones: Mapping[str, str] | None) -> Callable:
    from isp_viewer.metrics.backbones import find_backbone

    net = "vgg" if kind == "dists" else kind
    path, reason = find_backbone(net, (backbones or {}).get(net))
    if path is None:
        raise MetricUnavailable(f"{'DISTS' if kind == 'dists' else 'LPIPS'}: {reason}")
    return _perceptual_model(kind, str(path))


def metric_evaluator(output: ArrayLike, reference: ArrayLike | None, convention: Convention = ISP_PAPER,
                     region: Region | None = None,
                     backbones: Mapping[str, str] | None = None) -> Callable[[str], float]:
    """value(name) for catalogue metric `name` of `output` against `reference`; what several
    metrics share (PSNR with SSIM, the pair's CIELAB, the CIEDE2000 map) is computed once per
    evaluator. A metric that needs the absent reference raises InputError; one that cannot run,
    MetricUnavailable. Conventions as in compute_metrics."""
    from isp_viewer.core.colour import lab_pair
    from isp_viewer.core.image import as_unit_array
    from isp_viewer.metrics.convention import crop_region

    cache: dict[str, Any] = {}

    def once(key: str, fn: Callable):
        if key not in cache:
            cache[key] = fn()
        return cache[key]

    def value(name: str) -> float:
        from isp_viewer.metrics import artifacts, fidelity
        from isp_viewer.metrics import colour_difference as cd

        if CATALOGUE[name].needs_reference and reference is None:
            raise InputError(f"{name} needs a reference image (--ref)")
        ref = cast(ArrayLike, reference)
        if name in ("PSNR", "SSIM"):
            both = once("psnr_ssim", lambda: fidelity.psnr_ssim(output, ref, convention, region))
            return both.psnr if name == "PSNR" else both.ssim
        if name == "MS-SSIM":
            return fidelity.ms_ssim(output, ref, convention, region)
        if name == "FLIP":
            from isp_viewer.metrics.flip import flip

            return flip(output, ref, region=region)[0]

        def lab() -> tuple:
            return once("lab", lambda: lab_pair(output, ref, region))

        if name in ("dE2000", "dE2000-p95"):
            de = once("de", lambda: cd.de2000(output, ref, region, lab=lab()))
            return de.mean if name == "dE2000" else de.p95
        if name == "dEITP":
            return float(cd.deitp_map(output, ref, region).mean(dtype="float64"))
        if name == "zipper":
            return artifacts.zipper(output, ref, region, lab=lab()).percent
        if name in ("false-colour", "false-colour-edges"):
            return artifacts.false_colour(output, ref, region, edges_only=name.endswith("edges"), lab=lab())
        if name in ("LPIPS", "LPIPS-VGG", "DISTS"):
            kind = {"LPIPS": "alex", "LPIPS-VGG": "vgg", "DISTS": "dists"}[name]
            model = _perceptual(kind, backbones)
            x = crop_region(as_unit_array(output, "test image"), region, "test image")
            y = crop_region(as_unit_array(ref, "reference image"), region, "reference image")
            return model(x, y)
        image = once("image", lambda: crop_region(as_unit_array(output, "image"), region, "image"))
        if name == "NIQE":
            from isp_viewer.metrics.niqe import niqe

            return niqe(image)
        from isp_viewer.metrics.brisque import brisque

        return brisque(image)

    return lambda name: float(value(name))


def compute_metrics(names: Sequence[str] | str, output: ArrayLike, reference: ArrayLike | None,
                    convention: Convention = ISP_PAPER, region: Region | None = None,
                    backbones: Mapping[str, str] | None = None) -> list[MetricValue]:
    """(name, value, convention text) for each metric of `output` (against `reference`).

    PSNR, SSIM and MS-SSIM follow `convention` (channel, crop, uint8, range); the others state
    their own convention and use the display RGB of `region`. `backbones` maps "alex"/"vgg" to
    torchvision files (else the torch cache is searched). Raises MetricUnavailable with the
    reason when a metric cannot run, InputError when a reference is needed but absent.
    """
    wanted = resolve(names)
    missing_ref = [n for n in wanted if CATALOGUE[n].needs_reference and reference is None]
    if missing_ref:
        raise InputError(f"{', '.join(missing_ref)} need a reference image (--ref)")
    value = metric_evaluator(output, reference, convention, region, backbones)
    return [MetricValue(n, value(n), CATALOGUE[n].convention_text(convention)) for n in wanted]


def score(test: ArrayLike, reference: ArrayLike | None, conv: Convention,
          metrics: Sequence[str]) -> dict[str, float]:
    """{name: value} as `eval`'s results matrix stores it (names as given)."""
    given = list(dict.fromkeys(metrics))
    values = compute_metrics(given, test, reference, conv)
    return {g: v.value for g, v in zip(given, values)}
