"""The headless face of the core: `isp-viewer <command> ...`.

Every user-facing failure is an IspViewerError: printed as one line on stderr, exit code 2.
With no command, the GUI starts (on the given files, or on the bundled demo).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path

from isp_viewer.core.errors import InputError, IspViewerError

EXIT_USER_ERROR = 2
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str):
    def register(fn):
        COMMANDS[name] = fn
        return fn
    return register


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, like every other user error
        raise IspViewerError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="isp-viewer", description="Compare learned camera pipelines on RAW photos.")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    s = sub.add_parser("gui", help="start the window (default when no command is given)")
    s.add_argument("files", nargs="*")

    s = sub.add_parser("info", help="facts of a RAW or image file as JSON")
    s.add_argument("file")
    s.add_argument("--bayer-cfa", choices=["RGGB", "BGGR", "GRBG", "GBRG"], help="the input is a packed Bayer frame "
                   "(1-channel PNG, or .npy/.npz: HxW mosaic or HxWx4 planes in cell order)")
    s.add_argument("--bayer-bits", type=int, default=10)

    s = sub.add_parser("render", help="render a RAW with LibRaw")
    s.add_argument("file")
    s.add_argument("--demosaic", default="AHD")
    s.add_argument("--wb", default="camera", choices=["camera", "auto", "none"])
    s.add_argument("--bits", type=int, default=8, choices=[8, 16])
    s.add_argument("--linear", action="store_true", help="linear output (no sRGB curve)")
    s.add_argument("--out", required=True)

    sub.add_parser("models", help="list the networks, their weights and licences")

    s = sub.add_parser("detect", help="which network a checkpoint belongs to")
    s.add_argument("file")

    s = sub.add_parser("process", help="run networks on an input")
    s.add_argument("input")
    s.add_argument("--model", action="append", required=True, help="model id (repeatable)")
    s.add_argument("--weights", action="append", default=[], help="checkpoint for the model at the same position")
    s.add_argument("--simulate-cfa", choices=["RGGB", "BGGR", "GRBG", "GBRG"])
    s.add_argument("--bayer-cfa", choices=["RGGB", "BGGR", "GRBG", "GBRG"],
                   help="the input is a packed Bayer frame (1-channel PNG, or .npy/.npz)")
    s.add_argument("--bayer-bits", type=int, default=10)
    s.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    s.add_argument("--precision", default="auto", choices=["auto", "fp32", "fp16", "bf16"],
                   help="half precision only where the network allows it, on a GPU")
    s.add_argument("--tile", type=int, help="tile side in input pixels (default: the device's; whole-frame "
                   "networks ignore it)")
    s.add_argument("--reference", help="clean sRGB of the same scene (CycleISP RAW→RGB's colour branch)")
    s.add_argument("--noise-sigma", type=float, metavar="S", help="noise std in 1/255 units for networks "
                   "that take a noise level (Kokkinos MMNet), instead of their estimate or default")
    s.add_argument("--simulate-lr", metavar="bicubic:S", help="the input is an HR ground truth: run on its "
                   "MATLAB-bicubic ×1/S copy (S = 2, 3, 4, 8; the LR and cropped HR are written too)")
    s.add_argument("--out", required=True)

    s = sub.add_parser("metrics", help="PSNR/SSIM, colour, artifact, perceptual and no-reference metrics, "
                       "each with its convention")
    s.add_argument("images", nargs="+")
    s.add_argument("--ref", help="the reference image (needed unless --no-reference)")
    s.add_argument("--no-reference", action="store_true", help="score each image alone (NIQE, BRISQUE)")
    s.add_argument("--metrics", help="comma-separated names (default psnr,ssim; niqe,brisque with --no-reference): "
                   "psnr, ssim, ms-ssim, flip, de2000, de2000-p95, deitp, zipper, false-colour, false-colour-edges, "
                   "lpips, lpips-vgg, dists, niqe, brisque")
    s.add_argument("--backbone", action="append", default=[], metavar="NET=FILE", help="torchvision ImageNet "
                   "weights for LPIPS/DISTS (alex=alexnet-owt-7be5be79.pth, vgg=vgg16-397923af.pth); default: "
                   "the torch cache ($TORCH_HOME/hub/checkpoints); never downloaded")
    s.add_argument("--preset", default="isp", choices=["isp", "sr-y", "sr-y-matlab"], help="isp: RGB in [0,1]; "
                   "sr-y: Y (BasicSR float Y), crop=scale, uint8; sr-y-matlab: as sr-y with Y rounded like MATLAB")
    s.add_argument("--align", choices=["translation", "affine", "homography"], help="also register each image "
                   "onto the reference (phase correlation / ECC) and report aligned PSNR/SSIM beside the raw ones")
    s.add_argument("--colour-match", action="store_true", help="with --align: per-channel least-squares gain/offset")
    s.add_argument("--scale", type=int, default=4, help="super-resolution scale (sr-y crop border)")
    s.add_argument("--roi", help="x,y,w,h on the reference grid (clamped to it, with a warning)")
    s.add_argument("--max-scale", type=int, default=8, help="largest size factor between an image and the reference "
                   "that is scored (block-averaged or pixel-repeated onto its grid); default 8")
    s.add_argument("--json", action="store_true",
                   help="JSON; PSNR of identical images is null with \"identical\": true")

    s = sub.add_parser("eval", help="run models over a folder of inputs and score them against references")
    s.add_argument("--inputs", required=True)
    s.add_argument("--refs", required=True)
    s.add_argument("--model", action="append", default=[])
    s.add_argument("--classical", action="append", default=[], choices=["bilinear", "malvar", "menon"])
    s.add_argument("--simulate-cfa", choices=["RGGB", "BGGR", "GRBG", "GBRG"])
    s.add_argument("--downscale", type=int, default=0,
                   help="bicubic-downscale inputs by this factor first (SR protocol)")
    s.add_argument("--preset", default="isp", choices=["isp", "sr-y", "sr-y-matlab"])
    s.add_argument("--scale", type=int, default=4)
    s.add_argument("--noise-sigma", type=float, metavar="S", help="noise std in 1/255 units for networks "
                   "that take a noise level (Kokkinos MMNet), instead of their estimate or default")
    s.add_argument("--out", required=True, help="table.csv; beside it: .tex (LaTeX), .long.csv (image x method x "
                   "metric), .pivot.csv (mean, std, 95%% CI), .json (per image, with worst regions)")
    s.add_argument("--metrics", default="PSNR,SSIM", help="comma-separated metric names (default PSNR,SSIM)")
    s.add_argument("--store", help="results store to resume from and fill (default: "
                   ".isp-viewer-matrix.db in the inputs folder, or beside --out when that is read-only)")
    s.add_argument("--merge", action="append", default=[], metavar="DB", help="first copy in the results of "
                   "another store, e.g. from another machine (repeatable)")
    s.add_argument("--ray", metavar="auto|ADDRESS", help="compute on Ray: one actor per GPU / CPU node "
                   "(auto: a running cluster, else a local one); needs isp-viewer[ray]")
    s.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"], help="local runs' device")
    s.add_argument("--tile", type=int, default=512, help="engine tile side in input pixels (part of each "
                   "network cell's key, so every machine runs the same tiles)")
    s.add_argument("--worst", default="absolute", help="worst regions by absolute and/or ssim error "
                   "(comma-separated, or none)")
    s.add_argument("--window", type=int, default=64, help="worst-region window side in pixels")
    s.add_argument("--top-k", type=int, default=8, help="worst regions kept per image and method")

    s = sub.add_parser("compare", help="build a comparison session (.ispv) with one figure, without a window")
    s.add_argument("inputs", nargs="+", metavar="INPUT", help="what the methods run on (a ground truth when "
                   "simulating), then images shown as they are")
    s.add_argument("--method", action="append", default=[], help="libraw:AHD | classical:malvar (repeatable)")
    s.add_argument("--model", action="append", default=[], help="network id (repeatable)")
    s.add_argument("--weights", action="append", default=[], help="checkpoint for the model at the same position")
    sim = s.add_mutually_exclusive_group()
    sim.add_argument("--simulate-cfa", choices=["RGGB", "BGGR", "GRBG", "GBRG"])
    sim.add_argument("--simulate-lr", metavar="bicubic:S")
    s.add_argument("--roi", action="append", default=[], metavar="x,y,w,h", help="on the reference grid (repeatable)")
    s.add_argument("--out", required=True, help="S.ispv")

    s = sub.add_parser("export", help="write a figure of a saved session")
    s.add_argument("session")
    s.add_argument("--figure", help="figure name (default: the session's only figure)")
    s.add_argument("--out", required=True, help="fig.png | fig.svg | fig.pdf | fig.pptx")
    s.add_argument("--device", default="cpu", choices=["cpu", "cuda", "mps", "auto"])
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Before any thread starts: network layers then reuse freed heap blocks (engine/host_memory.py).
    from isp_viewer.engine.host_memory import keep_freed_memory

    keep_freed_memory()
    try:
        parser = build_parser()
        if not argv or (argv[0] not in _command_names(parser) and not argv[0].startswith("-")):
            _refuse_unknown_word(argv, _command_names(parser))
            return _start_gui(argv)
        args = parser.parse_args(argv)
        if args.command == "gui":
            return _start_gui(args.files)
        return COMMANDS[args.command](args)
    except IspViewerError as err:
        print(f"isp-viewer: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("isp-viewer: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 — the promise is one line, never a traceback
        print(f"isp-viewer: internal error: {type(err).__name__}: {' '.join(str(err).split())[:300]}", file=sys.stderr)
        return 1


def _command_names(parser: argparse.ArgumentParser) -> set[str]:
    """The sub-commands the parser knows (so new commands count without editing a list)."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {name for a in actions for name in a.choices}


def _refuse_unknown_word(argv: list[str], names: set[str]) -> None:
    """A first word that is neither a command nor an existing file is a typo, not a file to open."""
    import difflib

    if not argv or Path(argv[0]).exists():
        return
    close = difflib.get_close_matches(argv[0], sorted(names), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise IspViewerError(f"unknown command or file not found: {argv[0]}{hint}")


def _warn(opened) -> None:
    """Print what an input's decoder had to assume (e.g. a fitted white level) as warning lines."""
    meta = opened.meta if hasattr(opened, "meta") else {}
    for line in meta.get("warnings", []):
        print(f"isp-viewer: warning: {Path(str(getattr(opened, 'source', '') or getattr(opened, 'path', ''))).name}: "
              f"{line}", file=sys.stderr)


def _start_gui(files: list[str]) -> int:
    from isp_viewer.app import run_app

    return run_app(files)


@command("info")
def cmd_info(args: argparse.Namespace) -> int:
    from isp_viewer.io.open import open_any

    opened = open_any(args.file, bayer_cfa=args.bayer_cfa, bayer_bits=args.bayer_bits)
    _warn(opened)
    facts = opened.facts() if hasattr(opened, "facts") else dict(opened.meta)
    facts.setdefault("path", args.file)
    print(json.dumps(facts, indent=2, ensure_ascii=False))
    return 0


@command("render")
def cmd_render(args: argparse.Namespace) -> int:
    from isp_viewer.io.images import check_output_path
    from isp_viewer.io.raw import LibRawOptions, render_libraw

    options = LibRawOptions(demosaic=args.demosaic.upper(), wb=args.wb,
                            output="linear" if args.linear else "srgb", bits=args.bits)
    out = Path(args.out)
    check_output_path(out, args.bits)   # before minutes of decoding
    image = render_libraw(args.file, options)
    _warn(image)
    _write_linear_aware(out, image, args.bits)
    print(f"{out}  ({image.width}x{image.height}, {options.label})")
    return 0


def _write_linear_aware(out: Path, image, bits: int) -> None:
    """Write pixel values as they are (a --linear render stays linear in the file)."""
    from isp_viewer.io.images import write_image

    write_image(out, image.data if image.linear else image, bits=bits)


@command("models")
def cmd_models(args: argparse.Namespace) -> int:
    from isp_viewer.models.loading import sha256_of_file
    from isp_viewer.models.registry import all_specs, expected_sha256, find_weights

    rows = [("id", "task", "input", "weights", "sha256", "licence")]
    for spec in all_specs():
        path = find_weights(spec)
        if path is None:
            unpublished = not spec.weights or "no public weights" in spec.notes
            looks_for = " or ".join(n for wf in spec.weights for n in wf.names)
            found, check = ("no public weights — load your own" if unpublished else f"not found: {looks_for}"), "-"
        else:
            found = str(path)
            want = expected_sha256(spec, path)
            check = "-" if want is None else ("match" if sha256_of_file(path) == want else "MISMATCH")
        licence = short_licence(spec.license) + (" (non-commercial)" if spec.non_commercial else "")
        rows.append((spec.id, spec.task.value, spec.input_kind.value, found, check, licence))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    print("# weight files are looked for under these names in any sub-folder of: " + _weights_places())
    return 0


def _weights_places() -> str:
    """The folders `find_weights` searches, in order, each with whether it exists here."""
    import os

    import isp_viewer

    env = os.environ.get("ISPV_WEIGHTS")
    places = [("$ISPV_WEIGHTS", Path(env) if env else None), ("./weights", Path.cwd() / "weights"),
              ("the checkout's weights/", Path(isp_viewer.__file__).resolve().parents[1] / "weights")]
    return "; ".join(f"{name} (not set)" if path is None else
                     f"{name} = {path}" + ("" if path.is_dir() else " (missing)") for name, path in places)


def short_licence(text: str) -> str:
    """The licence's name without the explanation the descriptor carries."""
    for sep in (" (", ":", ";"):
        text = text.split(sep, 1)[0]
    return text.strip()


@command("detect")
def cmd_detect(args: argparse.Namespace) -> int:
    from isp_viewer.io.checks import check_input_file
    from isp_viewer.models.registry import detect_checkpoint

    check_input_file(Path(args.file))   # missing / folder / empty: the same words as for images
    matches = detect_checkpoint(args.file)
    if not matches:
        raise InputError(f"{Path(args.file).name}: its keys and shapes match none of the known networks")
    for spec in matches:
        print(f"{spec.id}\t{spec.name}")
    return 0


@command("process")
def cmd_process(args: argparse.Namespace) -> int:
    from isp_viewer.engine.run import run_through_engine
    from isp_viewer.io.images import write_image
    from isp_viewer.io.open import open_any
    from isp_viewer.models.adapters import prepare_input
    from isp_viewer.models.registry import get_spec

    if args.weights and len(args.weights) > len(args.model):
        raise InputError("more --weights than --model options")
    if args.tile is not None and args.tile < 1:
        raise InputError(f"--tile must be a positive number of pixels, not {args.tile}")
    source = open_any(args.input, simulate_cfa=args.simulate_cfa, bayer_cfa=args.bayer_cfa, bayer_bits=args.bayer_bits)
    device = _pick_device(args.device)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = Path(args.input).stem
    if args.simulate_lr:
        source = _simulated_lr(source, args, out_dir, stem)
    specs = [get_spec(model_id) for model_id in args.model]
    for spec in specs:   # say at once when an input cannot work, before loading any weights
        prepare_input(spec, source)
    options = _noise_options(args, specs)
    reference = _as_image(args.reference) if args.reference else None
    for i, spec in enumerate(specs):
        weights = args.weights[i] if i < len(args.weights) else None
        with _progress_bar(spec.name) as report:
            image = run_through_engine(spec, weights, source, reference=reference, device=device,
                                       precision=args.precision, tile=args.tile, progress=report,
                                       options={k: v for k, v in options.items() if k in spec.options})
        sidecar = {"label": image.label, **image.meta, "weights": image.meta["weights_path"],
                   "input": _input_facts(source), "licence": spec.license}
        png = out_dir / f"{stem}__{spec.id}.png"
        write_image(png, image, bits=16)
        png.with_suffix(".json").write_text(json.dumps(sidecar, indent=2, ensure_ascii=False))
        how = "from the result cache" if sidecar["from_cache"] else f"{sidecar['seconds']:.2f} s on {sidecar['device']}"
        print(f"{png}  ({image.width}x{image.height}, {how}, {sidecar['tiles']} tile(s))")
    return 0


@contextmanager
def _progress_bar(name: str):
    """An engine progress callback drawing a bar on stderr when it is a terminal (else silent)."""
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    # delay: quick runs (and cache hits) never draw a bar
    bar = tqdm(total=100, desc=name, unit="%", file=sys.stderr, delay=1.0, leave=False,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")

    def report(p) -> None:   # the engine's worker thread
        bar.update(round(100 * p.fraction) - bar.n)

    try:
        yield report
    finally:
        bar.close()


def _noise_options(args: argparse.Namespace, specs) -> dict:
    """{'noise_sigma': S} when --noise-sigma is given and some named network takes it."""
    sigma = getattr(args, "noise_sigma", None)
    if sigma is None:
        return {}
    if not 0 <= sigma <= 255:
        raise InputError(f"--noise-sigma is in 1/255 units and must lie in [0, 255], not {sigma:g}")
    if not any("noise_sigma" in spec.options for spec in specs):
        raise InputError("--noise-sigma: none of the named networks takes a noise level")
    return {"noise_sigma": sigma}


def _simulated_lr(source, args: argparse.Namespace, out_dir: Path, stem: str):
    """The LR copy of a ground truth; writes it and the HR crop the outputs are scored against."""
    from isp_viewer.core.image import Image
    from isp_viewer.io.images import write_image
    from isp_viewer.io.resize import describe, parse_simulate_lr, simulate_low_resolution

    scale = parse_simulate_lr(args.simulate_lr)
    if args.simulate_cfa or not isinstance(source, Image):
        raise InputError("--simulate-lr needs an RGB ground truth (and no --simulate-cfa)")
    hr, lr = simulate_low_resolution(source, scale)
    write_image(out_dir / f"{stem}__lr_x{scale}.png", lr, bits=8)
    write_image(out_dir / f"{stem}__hr.png", hr, bits=8)
    print(f"{out_dir / f'{stem}__lr_x{scale}.png'}  ({lr.width}x{lr.height}, {describe(scale)})")
    return lr


def _pick_device(request: str) -> str:
    import torch

    if request == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if request == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda: no CUDA device is available (this torch build: " + torch.__version__ + ")")
    if request == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise InputError("--device mps: Apple MPS is not available")
    return request


def _input_facts(source) -> dict:
    facts = source.facts() if hasattr(source, "facts") else dict(source.meta)
    return {k: v for k, v in facts.items() if isinstance(v, (str, int, float, list, bool, type(None)))}


def _convention(preset: str, scale: int):
    from isp_viewer.metrics import ISP_PAPER, SR_PAPER
    from isp_viewer.metrics.convention import SR_PAPER_MATLAB

    if preset == "sr-y-matlab":
        return SR_PAPER_MATLAB(scale)
    return SR_PAPER(scale) if preset == "sr-y" else ISP_PAPER


def _as_image(path: str):
    from isp_viewer.core.image import Image
    from isp_viewer.io.open import open_any

    opened = open_any(path)
    if not isinstance(opened, Image):
        raise InputError(f"{Path(path).name}: a RAW mosaic has no RGB values to score; render or process it first")
    return opened


@command("metrics")
def cmd_metrics(args: argparse.Namespace) -> int:
    from isp_viewer.core.region import Region, fit_region
    from isp_viewer.metrics import align_to_reference
    from isp_viewer.metrics.catalogue import CATALOGUE, MetricUnavailable, compute_metrics, resolve

    names = resolve(args.metrics or ("niqe,brisque" if args.no_reference else "psnr,ssim"))
    backbones = _backbones(args.backbone)
    if args.no_reference:
        with_ref = [n for n in names if CATALOGUE[n].needs_reference]
        if with_ref:
            verb = "needs" if len(with_ref) == 1 else "need"
            raise InputError(f"--no-reference: {', '.join(with_ref)} {verb} a reference; use niqe or brisque")
    elif not args.ref:
        raise InputError("--ref is required (or --no-reference for niqe, brisque)")
    for name in names:  # say why before any image is read
        reason = CATALOGUE[name].unavailable(backbones)
        if reason:
            raise MetricUnavailable(f"{name}: {reason}")
    conv = _convention(args.preset, args.scale)
    reference = None if args.no_reference else _as_image(args.ref)
    region = None
    if args.roi:
        if reference is None:
            raise InputError("--roi needs --ref (the ROI is on the reference grid)")
        region, warning = fit_region(Region.parse(args.roi), reference.width, reference.height)
        if warning:
            print(f"isp-viewer: warning: --roi: {warning}", file=sys.stderr)
    rows = []
    for path in args.images:
        if reference is None:
            values, note = compute_metrics(names, _as_image(path).rgb(), None, conv, backbones=backbones), ""
        else:
            al = align_to_reference(_as_image(path).rgb(), reference.rgb(), max_scale=args.max_scale)
            values, note = compute_metrics(names, al.image, al.reference, conv, al.local(region), backbones), al.note
        row = {"image": path}
        for v in values:
            row[_METRIC_KEYS.get(v.name, v.name.lower())] = round(v.value, 6 if v.name != "PSNR" else 4)
        if args.align and reference is not None:
            row.update(_aligned_row(al.image, al.reference, conv, args.align, args.colour_match))
        rows.append({**row, "note": note})
    conventions = {v.name: v.convention for v in values}
    if args.json:
        print(json.dumps({"reference": args.ref, "convention": conv.describe(), "roi": args.roi,
                          "roi_used": list(region.as_tuple()) if region else None,
                          "metrics": [{"name": n, "key": _METRIC_KEYS.get(n, n.lower()), "convention": conventions[n],
                                       "lower_is_better": CATALOGUE[n].lower_is_better} for n in names],
                          "results": _json_rows(rows)}, indent=2, allow_nan=False))
    else:
        if any(CATALOGUE[n].convention == "" for n in names):
            print(f"# {conv.describe()}" + (f", ROI {args.roi}" if args.roi else ""))
        for n in names:
            if CATALOGUE[n].convention:
                print(f"# {n}: {conventions[n]}")
        width = max(len(r["image"]) for r in rows)
        for r in rows:
            print(f"{r['image']:{width}}  " + "  ".join(_metric_text(n, r[_METRIC_KEYS.get(n, n.lower())])
                                                       for n in names) + (f"  {r['note']}" if r["note"] else ""))
            if "aligned_psnr_db" in r:
                print(f"{'':{width}}  aligned: PSNR {r['aligned_psnr_db']:8.3f} dB  SSIM {r['aligned_ssim']:.5f}  "
                      f"({r['transform']})")
    return 0


def _aligned_row(image, reference, conv, model: str, colour_match: bool) -> dict:
    """Registered PSNR/SSIM (on the valid rectangle) and the transform, for one metrics row."""
    from isp_viewer.metrics.registration import aligned_scores

    s = aligned_scores(image, reference, conv, model, colour_match)
    return {"aligned_psnr_db": round(s.aligned.psnr, 4), "aligned_ssim": round(s.aligned.ssim, 6),
            "transform": s.registration.describe(), "transform_matrix": s.registration.matrix.round(6).tolist(),
            "aligned_region": list(s.region.as_tuple())}


# JSON keys of the metrics whose keys predate the catalogue; the others use the lower-cased name.
_METRIC_KEYS = {"PSNR": "psnr_db", "SSIM": "ssim"}


def _metric_text(name: str, value: float) -> str:
    if name == "PSNR":
        return f"PSNR {value:8.3f} dB"
    if name == "SSIM":
        return f"SSIM {value:.5f}"
    return f"{name} {value:.4f}"


def _backbones(items: list[str]) -> dict[str, str]:
    """--backbone alex=FILE vgg=FILE -> {"alex": FILE, ...}."""
    out = {}
    for item in items:
        net, sep, path = item.partition("=")
        if not sep or net not in ("alex", "vgg") or not path:
            raise InputError(f"--backbone {item!r}: write alex=FILE or vgg=FILE")
        out[net] = path
    return out


def _json_rows(rows: list[dict]) -> list[dict]:
    """Valid JSON: a non-finite score becomes null; "identical" is true where PSNR is infinite (no error at all)."""
    import math

    out = []
    for row in rows:
        row = dict(row)
        row["identical"] = isinstance(row.get("psnr_db"), float) and math.isinf(row["psnr_db"])
        out.append({k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in row.items()})
    return out


@command("eval")
def cmd_eval(args: argparse.Namespace) -> int:
    from isp_viewer.matrix.command import run_eval
    from isp_viewer.models.registry import get_spec

    options = _noise_options(args, [get_spec(m) for m in args.model])
    return run_eval(args, _convention(args.preset, args.scale), options)


@command("compare")
def cmd_compare(args: argparse.Namespace) -> int:
    from isp_viewer.export.compare import CompareRequest, compare, describe

    req = CompareRequest(tuple(args.inputs), tuple(args.method), tuple(args.model), tuple(args.weights),
                         args.simulate_cfa, args.simulate_lr, tuple(args.roi))
    path, doc = compare(req, args.out)
    print(path)
    for line in describe(doc):
        print(f"  {line}")
    return 0


@command("export")
def cmd_export(args: argparse.Namespace) -> int:
    from isp_viewer.export.figure_export import export_figure, format_for
    from isp_viewer.export.provider import SessionImageProvider
    from isp_viewer.export.session_file import check_inputs, load
    from isp_viewer.io.checks import check_input_file

    format_for(args.out)   # an unsupported --out type is refused before any work
    session = Path(args.session)
    check_input_file(session)
    doc = load(session)
    problems = check_inputs(doc, session.parent)
    if problems:
        raise InputError(f"{session.name}: " + "; ".join(problems))
    device = _pick_device(args.device)
    provider = SessionImageProvider(doc, session.parent, device=device)
    figure = args.figure
    if figure is None:
        if len(doc.figures) != 1:
            raise InputError(f"{session.name} has {len(doc.figures)} figures ({', '.join(doc.figures) or 'none'}); "
                             "name one with --figure")
        figure = next(iter(doc.figures))
    path = export_figure(doc, figure, args.out, provider)
    print(path)
    return 0
