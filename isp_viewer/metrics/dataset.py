"""Scoring a data set: pair outputs with references by file name, fill a MetricTable."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import CancelledError
from pathlib import Path
from typing import Protocol, cast

from isp_viewer.core.errors import InputError
from isp_viewer.metrics.align import align_to_reference
from isp_viewer.metrics.convention import ArrayLike, Convention
from isp_viewer.metrics.fidelity import ms_ssim, psnr_ssim
from isp_viewer.metrics.flip import flip
from isp_viewer.metrics.table import MetricTable

IMAGE_SUFFIXES = {".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".exr"}
# Trailing name tokens data sets and SR codebases add to otherwise equal stems:
# baby_GT.bmp, baby_HR.png, baby_x4_SR.png, 0801x4.png, img_001_out.png ...
_TAG = r"(?:gt|hr|lr|sr|ref|reference|target|label|input|output|out|pred|result|x\d+|bicubic)"
_TRAILING_TAGS = re.compile(rf"(?:[_\-. ]{_TAG})+$|(?<=\d)x\d+$", re.IGNORECASE)

SUPPORTED_METRICS = ("PSNR", "SSIM", "MS-SSIM", "FLIP")
Pair = tuple[str, ArrayLike, Mapping[str, ArrayLike]]
ProgressFn = Callable[[int, int], None]


class _Event(Protocol):
    def is_set(self) -> bool: ...


CancelLike = Callable[[], bool] | _Event | None


def evaluate_pairs(pairs: Sequence[Pair], conv: Convention, progress: ProgressFn | None = None,
                   cancel: CancelLike = None,
                   metrics: Sequence[str] = ("PSNR", "SSIM")) -> MetricTable:
    """Score every method output against its reference image.

    pairs: (image name, reference, {method: output}); arrays follow the metrics input
    convention, and outputs of another size are mapped onto the reference with
    `align_to_reference` (InputError names the image and method when they cannot be).
    progress(done, total) is called after each (image, method); `cancel` (a callable returning
    True, or an object with is_set() such as threading.Event) is checked before each one and
    raises concurrent.futures.CancelledError. Values equal per-image calls of the metrics.
    """
    unknown = [m for m in metrics if m not in SUPPORTED_METRICS]
    if unknown:
        raise ValueError(f"Unknown metrics {unknown}; choose from {SUPPORTED_METRICS}")
    total = sum(len(outputs) for _, _, outputs in pairs)
    done = 0
    records = []
    for name, reference, outputs in pairs:
        for method, output in outputs.items():
            if is_cancelled(cancel):
                raise CancelledError(f"evaluation cancelled after {done} of {total} results")
            try:
                aligned = align_to_reference(output, reference)
            except InputError as err:
                raise InputError(f"{name} / {method}: {err}") from err
            records.append((method, name, score_pair(aligned.image, aligned.reference, conv, metrics)))
            done += 1
            if progress is not None:
                progress(done, total)
    return MetricTable.from_records(conv, records)


def score_pair(test: ArrayLike, reference: ArrayLike, conv: Convention,
               metrics: Sequence[str] = ("PSNR", "SSIM")) -> dict[str, float]:
    """{metric: value} for one aligned pair; PSNR and SSIM share their preparation.

    FLIP is a perceptual metric of the displayed RGB images: it ignores the convention's
    channel, border crop and quantisation.
    """
    scores: dict[str, float] = {}
    if "PSNR" in metrics or "SSIM" in metrics:
        both = psnr_ssim(test, reference, conv)
        if "PSNR" in metrics:
            scores["PSNR"] = both.psnr
        if "SSIM" in metrics:
            scores["SSIM"] = both.ssim
    if "MS-SSIM" in metrics:
        scores["MS-SSIM"] = ms_ssim(test, reference, conv)
    if "FLIP" in metrics:
        scores["FLIP"] = flip(test, reference)[0]
    return {m: scores[m] for m in metrics}


def normalized_stem(path: str | Path) -> str:
    """The file stem without data-set tags such as _GT, _HR, _x4_SR, lower-cased."""
    stem = Path(path).stem
    bare = _TRAILING_TAGS.sub("", stem)
    return (bare or stem).lower()


def match_by_name(inputs_dir: str | Path, refs_dir: str | Path,
                  strict: bool = False) -> list[tuple[str, Path, Path]]:
    """Pair image files of two folders by `normalized_stem`: [(stem, input path, reference path)].

    Sorted by stem. Files without a partner are skipped, or reported as an InputError when
    `strict`; two files in one folder with the same normalised stem are always an error.
    """
    inputs = _index(Path(inputs_dir), "outputs")
    refs = _index(Path(refs_dir), "references")
    common = sorted(set(inputs) & set(refs))
    if not common:
        raise InputError(f"No file names in {inputs_dir} match those in {refs_dir} "
                         "(tags such as _GT, _HR, _x4 are ignored)")
    if strict:
        lonely = sorted(set(inputs) ^ set(refs))
        if lonely:
            raise InputError(f"{len(lonely)} file(s) have no partner: {', '.join(lonely[:5])}")
    return [(stem, inputs[stem], refs[stem]) for stem in common]


def _index(folder: Path, what: str) -> dict[str, Path]:
    if not folder.is_dir():
        raise InputError(f"The {what} folder {folder} does not exist")
    index: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
            continue
        stem = normalized_stem(path)
        if stem in index:
            raise InputError(f"{index[stem].name} and {path.name} in {folder} both match the name '{stem}'")
        index[stem] = path
    return index


def is_cancelled(cancel: CancelLike) -> bool:
    """A cancel given as a threading.Event-like object or a callable; None never cancels."""
    if cancel is None:
        return False
    is_set = getattr(cancel, "is_set", None)
    return bool(is_set() if callable(is_set) else cast(Callable[[], bool], cancel)())
