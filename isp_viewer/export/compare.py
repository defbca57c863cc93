"""`isp-viewer compare`: build, without a window, the session a researcher would build in it.

    isp-viewer compare INPUT [MORE ...] --method libraw:AHD --method classical:malvar \\
        --model demosaicnet_bayer [--simulate-cfa GRBG | --simulate-lr bicubic:4] \\
        [--roi x,y,w,h ...] --out S.ispv

INPUT is what the methods run on. With --simulate-cfa or --simulate-lr it is a ground truth: the
methods see its mosaic or its bicubic low-resolution copy, and it becomes the session's
reference (so the figure's captions are PSNR/SSIM against ground truth). Without a
simulation there is no ground truth, and the figure has no metric captions — unless no method
is named: then INPUT is the reference and MORE are the images compared against it.
MORE files are always shown as they are. The SR convention (Y, crop = scale, uint8) is chosen
when the outputs are ×s of the input and a ground truth is known, as in the window.

The session has one figure, "figure", with every method and ROI; `isp-viewer export S.ispv
--out fig.pdf` writes it. Nothing is computed here except cheap checks (files open, each
method accepts the input, ROIs lie on the reference grid), so mistakes are reported now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from isp_viewer.core.errors import InputError, IspViewerError
from isp_viewer.core.region import Region
from isp_viewer.export.figure import DEFAULT_ROI_COLOURS, FigureLayout
from isp_viewer.export.session_file import (
    ClassicalOptions,
    InputOptions,
    InputRef,
    LibRawOptions,
    MethodRef,
    NetworkOptions,
    RoiRef,
    SessionDoc,
    make_input_ref,
    relative_path,
    save,
)
from isp_viewer.io.raw import DEMOSAIC_ALGORITHMS, RAW_SUFFIXES, RawMosaic
from isp_viewer.io.resize import parse_simulate_lr
from isp_viewer.metrics.convention import ISP_PAPER, SR_PAPER

CLASSICAL_LABELS = {"bilinear": "Bilinear", "malvar": "Malvar-He-Cutler", "menon": "Menon 2007"}
FIGURE_NAME = "figure"


@dataclass(frozen=True)
class CompareRequest:
    inputs: tuple[str, ...]
    methods: tuple[str, ...] = ()         # "libraw:AHD", "classical:malvar"
    models: tuple[str, ...] = ()          # registry ids
    weights: tuple[str, ...] = ()         # checkpoint for the model at the same position
    simulate_cfa: str | None = None
    simulate_lr: str | None = None        # "bicubic:4"
    rois: tuple[str, ...] = ()            # "x,y,w,h" on the reference grid


def parse_roi(text: str) -> Region:
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"--roi wants x,y,w,h in pixels, got {text!r}") from None
    if w <= 0 or h <= 0 or x < 0 or y < 0:
        raise InputError(f"--roi {text}: x and y must be >= 0 and w, h > 0")
    return Region(x, y, w, h)


def _method(spec: str, cfa: str) -> tuple[str, object]:
    kind, _, name = spec.partition(":")
    kind = kind.lower()
    if kind == "libraw":
        algo = (name or "AHD").upper()
        if algo not in DEMOSAIC_ALGORITHMS:
            raise InputError(f"--method {spec}: LibRaw demosaic must be one of {', '.join(DEMOSAIC_ALGORITHMS)}")
        return f"LibRaw {algo}", LibRawOptions(algo, "camera", "sRGB", 16)
    if kind == "classical":
        algo = name.lower()
        if algo not in CLASSICAL_LABELS:
            raise InputError(f"--method {spec}: classical demosaic must be one of {', '.join(CLASSICAL_LABELS)}")
        return CLASSICAL_LABELS[algo], ClassicalOptions(algo, cfa)
    raise InputError(f"--method {spec!r}: use libraw:ALGORITHM or classical:bilinear|malvar|menon "
                     "(networks: --model ID)")


def build_compare_doc(req: CompareRequest, session_path: str | Path) -> SessionDoc:
    """The session for `req`, with paths relative to the .ispv file's folder; InputError on bad input."""
    from isp_viewer.export.provider import SessionImageProvider, convention_dict
    from isp_viewer.models.adapters import prepare_input
    from isp_viewer.models.loading import sha256_of_file
    from isp_viewer.models.registry import find_weights, get_spec

    if not req.inputs:
        raise InputError("name an input file")
    if req.simulate_cfa and req.simulate_lr:
        raise InputError("--simulate-cfa and --simulate-lr exclude each other: one protocol per comparison")
    if len(req.weights) > len(req.models):
        raise InputError("more --weights than --model options")
    base = Path(session_path).resolve().parent
    paths = [Path(p) for p in req.inputs]
    for p in paths:
        if not p.is_file():
            raise InputError(f"{p}: file not found")
    scale = parse_simulate_lr(req.simulate_lr) if req.simulate_lr else None
    first = paths[0]
    is_raw = first.suffix.lower() in RAW_SUFFIXES
    if (req.simulate_cfa or scale) and is_raw:
        raise InputError(f"{first.name}: simulation needs an RGB ground truth, not a camera RAW")
    simulated = bool(req.simulate_cfa or scale)
    compares_files = not (req.methods or req.models)
    inputs = [make_input_ref("in1", first, base, "raw" if is_raw else "image", req.simulate_cfa, scale)]
    inputs += [make_input_ref(f"in{i + 2}", p, base, "image") for i, p in enumerate(paths[1:])]
    reference = "in1" if simulated or compares_files else ""

    methods: list[MethodRef] = []
    if reference:
        methods.append(MethodRef("m1", "Ground truth" if simulated else "Reference", InputOptions("in1")))
    elif not is_raw:
        methods.append(MethodRef("m1", "Input", InputOptions("in1")))
    cfa = req.simulate_cfa or "RGGB"
    doc = SessionDoc(inputs=tuple(inputs), reference=reference)
    provider = SessionImageProvider(doc, base)
    source = provider.source
    if isinstance(source, RawMosaic):
        cfa = source.cfa
    for spec in req.methods:
        label, options = _method(spec, cfa)
        flat = isinstance(source, RawMosaic) and source.meta.get("raw_type") == "Flat"
        if isinstance(options, LibRawOptions) and not flat:
            raise InputError(f"--method {spec}: LibRaw renders camera RAW files; {first.name} is not one")
        if isinstance(options, ClassicalOptions) and not isinstance(source, RawMosaic):
            raise InputError(f"--method {spec}: classical demosaicking needs a mosaic (a RAW, or --simulate-cfa)")
        methods.append(MethodRef(f"m{len(methods) + 1}", label, options))
    out_scale = 1
    for i, model_id in enumerate(req.models):
        spec = get_spec(model_id)
        try:
            prepare_input(spec, source)
        except IspViewerError as err:
            raise InputError(f"--model {model_id}: {err}") from None
        given = req.weights[i] if i < len(req.weights) else None
        if given and not Path(given).is_file():
            raise InputError(f"--weights {given}: file not found")
        found = Path(given) if given else find_weights(spec)
        if found is None:
            raise InputError(f"--model {model_id}: no weights found; pass --weights FILE or drop the checkpoint "
                             "into weights/")
        options = NetworkOptions(spec.id, relative_path(given, base) if given else "", sha256_of_file(found))
        methods.append(MethodRef(f"m{len(methods) + 1}", spec.name, options))
        out_scale = max(out_scale, spec.output_scale)
    for i, p in enumerate(paths[1:]):
        methods.append(MethodRef(f"m{len(methods) + 1}", p.stem, InputOptions(f"in{i + 2}")))
    if not methods:
        raise InputError("nothing to compare: name --method, --model or more files")

    grid = _reference_grid(provider, source, reference, out_scale)
    rois = []
    for i, text in enumerate(req.rois):
        region = parse_roi(text)
        if grid is not None and (region.x + region.w > grid[0] or region.y + region.h > grid[1]):
            raise InputError(f"--roi {text} lies outside the {grid[0]}x{grid[1]} reference grid")
        rois.append(RoiRef(f"roi{i + 1}", f"ROI {i + 1}", region, DEFAULT_ROI_COLOURS[i % len(DEFAULT_ROI_COLOURS)]))
    sr_scale = scale or (out_scale if out_scale > 1 and reference else None)
    conv = SR_PAPER(sr_scale) if sr_scale else ISP_PAPER
    figure = FigureLayout(show_captions=bool(reference))
    return SessionDoc(inputs=tuple(inputs), reference=reference, methods=tuple(methods), rois=tuple(rois),
                      metric_convention=convention_dict(conv), figures={FIGURE_NAME: figure})


def _reference_grid(provider, source, reference: str, out_scale: int) -> tuple[int, int] | None:
    """(width, height) of the grid ROIs refer to: the reference's, else the outputs'."""
    if reference:
        img = provider.input_image(reference)
        return img.width, img.height
    return source.width * out_scale, source.height * out_scale


def compare(req: CompareRequest, out: str | Path) -> tuple[Path, SessionDoc]:
    out = Path(out)
    if out.suffix.lower() != ".ispv":
        raise InputError(f"--out {out.name}: a session file ends in .ispv")
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = build_compare_doc(req, out)
    return save(doc, out), doc


def describe(doc: SessionDoc) -> Sequence[str]:
    """Lines the CLI prints: what the session holds and how it will be scored."""
    lines = [f"inputs: {', '.join(Path(i.path).name + _sim(i) for i in doc.inputs)}",
             f"methods: {', '.join(m.label for m in doc.methods)}",
             f"ROIs: {len(doc.rois)}",
             ("reference: " + doc.reference + " (ground truth)") if doc.reference else "no ground truth: no metrics"]
    conv = doc.metric_convention
    if doc.reference and conv:
        lines.append(f"convention: {conv.get('name', '')}")
    return lines


def _sim(ref: InputRef) -> str:
    if ref.simulate_lr:
        return f" (bicubic ×1/{ref.simulate_lr})"
    return f" (mosaic {ref.simulate_cfa})" if ref.simulate_cfa else ""
