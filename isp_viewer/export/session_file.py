"""The session file (`.ispv`): a versioned JSON document that reproduces a comparison.

A `SessionDoc` is a frozen value: inputs (with sha256, so a changed file is noticed), the methods
that processed them, ROIs, display settings, the metric convention and named figure layouts.

Paths: input and weights paths are stored relative to the directory of the .ispv file (POSIX
separators), so a project folder can move as a whole; absolute paths are kept as they are
when no relative form exists (another drive). `make_input_ref` builds a reference that way;
`rebase` rewrites the paths when a session is saved into another directory.

File layout (version 1):
    {"format": "isp-viewer-session", "version": 1, "inputs": [...], "reference": "id",
     "methods": [...], "rois": [...], "display": {...}, "metric_convention": {...},
     "figures": {"name": {FigureLayout fields}}, "metrics": ["PSNR", "SSIM", ...]}
"metrics" (the metrics table's chosen columns) is written only when it is not the default
(PSNR, SSIM), so a file without it is read as the default and older readers still open it.
Older files go through `MIGRATIONS` (version n -> n+1) before validation; newer files are refused.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from isp_viewer.core.errors import InputError
from isp_viewer.core.methods import ClassicalMethod, FileMethod, LibRawOptions, NetworkMethod
from isp_viewer.core.region import Region
from isp_viewer.core.session import DEFAULT_METRICS
from isp_viewer.export.figure import FigureLayout
from isp_viewer.io.resize import SR_SCALES
from isp_viewer.models.loading import sha256_of_file

FORMAT_NAME = "isp-viewer-session"
FORMAT_VERSION = 1
SESSION_SUFFIX = ".ispv"
AUTOSAVE_SUFFIX = ".autosave"
INPUT_KINDS = ("raw", "image")
CFA_PATTERNS = ("RGGB", "BGGR", "GRBG", "GBRG")
LIBRAW_OUTPUTS = ("linear", "sRGB", "srgb")   # "sRGB": how early files spell it (read as "srgb")
LIBRAW_BITS = (8, 16)

#: MIGRATIONS[n] turns a version-n document (a plain dict) into a version-(n+1) one.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


def register_migration(from_version: int) -> Callable[[Callable[[dict], dict]], Callable[[dict], dict]]:
    """Decorator: `@register_migration(1)` on a function dict -> dict that upgrades 1 to 2."""
    def wrap(fn: Callable[[dict], dict]) -> Callable[[dict], dict]:
        MIGRATIONS[from_version] = fn
        return fn
    return wrap


# ----------------------------------------------------------------------------- values

@dataclass(frozen=True)
class InputRef:
    """An input file. path: relative to the .ispv directory (or absolute); sha256: hex digest of
    the file's bytes ("" = not recorded); kind: "raw" or "image"; simulate_cfa: a 2x2 pattern
    ("RGGB", ...) to mosaic an RGB image into a Bayer input, or None; simulate_lr: an SR scale
    (2, 3, 4, 8) to make the input a bicubic low-resolution copy of this ground truth
    (io.resize: MATLAB imresize), or None."""

    id: str
    path: str
    sha256: str = ""
    kind: str = "image"
    simulate_cfa: str | None = None
    simulate_lr: int | None = None


# The method values are core.methods' (one type per kind, shared with the session and the window);
# these names are the session file's words for them.
ClassicalOptions = ClassicalMethod
NetworkOptions = NetworkMethod
InputOptions = FileMethod


MethodOptions = LibRawOptions | ClassicalMethod | NetworkMethod | FileMethod
_OPTION_TYPES: dict[str, type] = {t.kind: t for t in (LibRawOptions, ClassicalMethod, NetworkMethod, FileMethod)}


@dataclass(frozen=True)
class MethodRef:
    """One way of producing an image: id (unique), label (shown in figures), options (its kind)."""

    id: str
    label: str
    options: MethodOptions

    @property
    def kind(self) -> str:
        return self.options.kind


@dataclass(frozen=True)
class RoiRef:
    """A region of interest on the reference grid, with a name and a '#rrggbb' colour."""

    id: str
    name: str
    region: Region
    colour: str = ""


@dataclass(frozen=True)
class DisplaySettings:
    """exposure in stops; gamma None = sRGB encoding for linear images; colormaps: purpose -> name;
    view_mode: what the panes show ("image", an error map or a spectrum: analysis.MODES);
    viewport: (centre x, centre y, zoom) in reference pixels and screen pixels per pixel, None = fit;
    active_roi: the id of the ROI the analysis is restricted to ("" = none)."""

    exposure: float = 0.0
    gamma: float | None = None
    colormaps: Mapping[str, str] = field(default_factory=lambda: {"error": "inferno", "fft": "viridis"})
    view_mode: str = "image"
    viewport: tuple[float, float, float] | None = None
    active_roi: str = ""


@dataclass(frozen=True)
class SessionDoc:
    """Everything needed to redo a comparison. Mappings inside are plain dicts: treat as read-only."""

    inputs: tuple[InputRef, ...] = ()
    reference: str = ""
    methods: tuple[MethodRef, ...] = ()
    rois: tuple[RoiRef, ...] = ()
    display: DisplaySettings = field(default_factory=DisplaySettings)
    metric_convention: Mapping[str, Any] = field(default_factory=dict)
    figures: Mapping[str, FigureLayout] = field(default_factory=dict)
    metrics: tuple[str, ...] = DEFAULT_METRICS   # the metrics table's chosen columns
    version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        for name in ("inputs", "methods", "rois", "metrics"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    def input(self, input_id: str) -> InputRef:
        return _by_id(self.inputs, input_id, "input")

    def method(self, method_id: str) -> MethodRef:
        return _by_id(self.methods, method_id, "method")

    def roi(self, roi_id: str) -> RoiRef:
        return _by_id(self.rois, roi_id, "ROI")

    def with_figure(self, name: str, layout: FigureLayout) -> SessionDoc:
        return replace(self, figures={**self.figures, name: layout})


def _by_id(items, item_id: str, what: str):
    for item in items:
        if item.id == item_id:
            return item
    raise InputError(f"the session has no {what} '{item_id}' (it has: {', '.join(i.id for i in items) or 'none'})")


# ----------------------------------------------------------------------------- paths and hashes

def file_sha256(path: str | os.PathLike) -> str:
    return sha256_of_file(path)


def relative_path(path: str | os.PathLike, base_dir: str | os.PathLike) -> str:
    """`path` relative to base_dir with '/' separators, or absolute when no relative form exists."""
    absolute = Path(path).resolve()
    try:
        return Path(os.path.relpath(absolute, Path(base_dir).resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return absolute.as_posix()


def resolve_path(stored: str, base_dir: str | os.PathLike) -> Path:
    p = Path(stored)
    return p if p.is_absolute() else Path(base_dir) / p


def make_input_ref(input_id: str, path: str | os.PathLike, base_dir: str | os.PathLike, kind: str = "image",
                   simulate_cfa: str | None = None, simulate_lr: int | None = None) -> InputRef:
    """An InputRef for an existing file, with its sha256 and its path relative to base_dir."""
    return InputRef(input_id, relative_path(path, base_dir), file_sha256(path), kind, simulate_cfa, simulate_lr)


def rebase(doc: SessionDoc, old_base: str | os.PathLike, new_base: str | os.PathLike) -> SessionDoc:
    """The same session with relative paths rewritten for a file in `new_base` ("Save as")."""
    def move(stored: str) -> str:
        return relative_path(resolve_path(stored, old_base), new_base) if stored else stored

    inputs = tuple(replace(i, path=move(i.path)) for i in doc.inputs)
    methods = tuple(
        replace(m, options=replace(m.options, weights_path=move(m.options.weights_path)))
        if isinstance(m.options, NetworkOptions) else m
        for m in doc.methods)
    return replace(doc, inputs=inputs, methods=methods)


def check_inputs(doc: SessionDoc, base_dir: str | os.PathLike) -> list[str]:
    """One line per difference between the session and the files on disk; [] when all match.

    Reports missing input files, inputs whose sha256 changed, and missing or changed network
    weights. An empty recorded sha256 means "not recorded": only existence is checked.
    """
    problems: list[str] = []
    for ref in doc.inputs:
        problems += _check_file(f"input '{ref.id}'", resolve_path(ref.path, base_dir), ref.sha256)
    for method in doc.methods:
        opts = method.options
        if isinstance(opts, NetworkOptions) and opts.weights_path:
            problems += _check_file(f"method '{method.id}' weights", resolve_path(opts.weights_path, base_dir),
                                    opts.weights_sha256)
    return problems


def _check_file(what: str, path: Path, expected_sha: str) -> list[str]:
    if not path.is_file():
        return [f"{what}: file missing: {path}"]
    if expected_sha:
        actual = sha256_of_file(path, verify=True)
        if actual != expected_sha:
            return [f"{what}: file changed: sha256 was {expected_sha[:12]}…, is now {actual[:12]}… ({path})"]
    return []


# ----------------------------------------------------------------------------- JSON encoding

def to_json_dict(doc: SessionDoc) -> dict[str, Any]:
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "inputs": [{"id": i.id, "path": i.path, "sha256": i.sha256, "kind": i.kind, "simulate_cfa": i.simulate_cfa,
                    **({"simulate_lr": i.simulate_lr} if i.simulate_lr else {})}
                   for i in doc.inputs],
        "reference": doc.reference,
        "methods": [_method_to_json(m) for m in doc.methods],
        "rois": [{"id": r.id, "name": r.name, "region": list(r.region.as_tuple()), "colour": r.colour}
                 for r in doc.rois],
        "display": _display_to_json(doc.display),
        "metric_convention": dict(doc.metric_convention),
        "figures": {name: layout.to_dict() for name, layout in doc.figures.items()},
        **({"metrics": list(doc.metrics)} if tuple(doc.metrics) != DEFAULT_METRICS else {}),
    }


_DEFAULT_FIELDS = {"half_size": False, "ground_truth": False, "device": "", "precision": "", "tile": 0, "overlap": 0}


def _method_to_json(m: MethodRef) -> dict[str, Any]:
    # Fields at their default are left out, so files stay readable by the version that wrote them.
    opts = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in vars(m.options).items()
            if not (k in _DEFAULT_FIELDS and v == _DEFAULT_FIELDS[k])}
    return {"id": m.id, "label": m.label, "kind": m.kind, "options": opts}


def _display_to_json(d: DisplaySettings) -> dict[str, Any]:
    out: dict[str, Any] = {"exposure": d.exposure, "gamma": d.gamma, "colormaps": dict(d.colormaps)}
    if d.view_mode != "image":
        out["view_mode"] = d.view_mode
    if d.viewport is not None:
        out["viewport"] = [float(v) for v in d.viewport]
    if d.active_roi:
        out["active_roi"] = d.active_roi
    return out


class _Reader:
    """Typed access to one JSON object; errors name the field's place in the document."""

    def __init__(self, obj: Any, where: str) -> None:
        if not isinstance(obj, dict):
            raise _SchemaError(f"{where} must be an object")
        self.obj, self.where, self.used = obj, where, set()

    def get(self, key: str, types: type | tuple, default: Any = ..., choices: tuple = ()) -> Any:
        self.used.add(key)
        if key not in self.obj:
            if default is ...:
                raise _SchemaError(f"{self.where}.{key} is missing")
            return default
        value = self.obj[key]
        types = types if isinstance(types, tuple) else (types,)
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            names = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise _SchemaError(f"{self.where}.{key} must be {names}, got {value!r}")
        if choices and value not in choices:
            raise _SchemaError(f"{self.where}.{key} must be one of {list(choices)}, got {value!r}")
        return value

    def done(self) -> None:
        unknown = sorted(set(self.obj) - self.used)
        if unknown:
            raise _SchemaError(f"{self.where} has unknown keys {unknown}")


class _SchemaError(ValueError):
    pass


def from_json_dict(d: Any) -> SessionDoc:
    """Validate a current-version document and build the SessionDoc (ValueError on problems)."""
    top = _Reader(d, "session")
    top.get("format", str, choices=(FORMAT_NAME,))
    top.get("version", int, choices=(FORMAT_VERSION,))
    inputs = tuple(_input_from_json(x, f"inputs[{i}]") for i, x in enumerate(top.get("inputs", list)))
    methods = tuple(_method_from_json(x, f"methods[{i}]") for i, x in enumerate(top.get("methods", list)))
    rois = tuple(_roi_from_json(x, f"rois[{i}]") for i, x in enumerate(top.get("rois", list, [])))
    display = _display_from_json(top.get("display", dict, {}))
    convention = top.get("metric_convention", dict, {})
    figures = {}
    for name, layout in top.get("figures", dict, {}).items():
        try:
            figures[name] = FigureLayout.from_dict(_Reader(layout, f"figures[{name!r}]").obj)
        except ValueError as e:
            raise _SchemaError(f"figures[{name!r}]: {e}") from None
    reference = top.get("reference", str, "")
    metrics = top.get("metrics", list, list(DEFAULT_METRICS))
    if not all(isinstance(name, str) for name in metrics):
        raise _SchemaError("session.metrics must be a list of metric names")
    top.done()
    doc = SessionDoc(inputs, reference, methods, rois, display, convention, figures, tuple(metrics))
    _check_references(doc)
    return doc


def _input_from_json(x: Any, where: str) -> InputRef:
    r = _Reader(x, where)
    ref = InputRef(r.get("id", str), r.get("path", str), r.get("sha256", str, ""),
                   r.get("kind", str, "image", INPUT_KINDS),
                   r.get("simulate_cfa", (str, type(None)), None, CFA_PATTERNS + (None,)),
                   r.get("simulate_lr", (int, type(None)), None, SR_SCALES + (None,)))
    r.done()
    return ref


def _method_from_json(x: Any, where: str) -> MethodRef:
    r = _Reader(x, where)
    method_id, label = r.get("id", str), r.get("label", str, "")
    kind = r.get("kind", str, choices=tuple(_OPTION_TYPES))
    o = _Reader(r.get("options", dict, {}), f"{where}.options")
    if kind == "libraw":
        opts: MethodOptions = LibRawOptions(o.get("demosaic", str, "AHD"), o.get("wb", str, "camera"),
                                            o.get("output", str, "srgb", LIBRAW_OUTPUTS),
                                            o.get("bits", int, 16, LIBRAW_BITS), o.get("half_size", bool, False))
    elif kind == "classical":
        opts = ClassicalMethod(o.get("algorithm", str, "bilinear"), o.get("cfa", str, "RGGB", CFA_PATTERNS))
    elif kind == "network":
        opts = NetworkMethod(o.get("model_id", str), o.get("weights_path", str, ""),
                             o.get("weights_sha256", str, ""), o.get("engine", dict, {}), o.get("device", str, ""),
                             o.get("precision", str, ""), o.get("tile", int, 0), o.get("overlap", int, 0))
    else:
        opts = FileMethod(o.get("input_id", str), o.get("ground_truth", bool, False))
    o.done()
    r.done()
    return MethodRef(method_id, label or method_id, opts)


def _roi_from_json(x: Any, where: str) -> RoiRef:
    r = _Reader(x, where)
    box = r.get("region", list)
    integers = all(isinstance(v, int) and not isinstance(v, bool) for v in box)
    if len(box) != 4 or not integers or box[2] < 0 or box[3] < 0:
        raise _SchemaError(f"{where}.region must be [x, y, w, h] integers with w, h >= 0, got {box!r}")
    colour = r.get("colour", str, "")
    hex_colour = (bool(colour) and len(colour) == 7 and colour[0] == "#"
                  and all(c in "0123456789abcdefABCDEF" for c in colour[1:]))
    if colour and not hex_colour:
        raise _SchemaError(f"{where}.colour must look like '#rrggbb', got {colour!r}")
    roi = RoiRef(r.get("id", str), r.get("name", str, ""), Region(*box), colour)
    r.done()
    return roi


def _display_from_json(x: Any) -> DisplaySettings:
    r = _Reader(x, "display")
    exposure = float(r.get("exposure", (int, float), 0.0))
    gamma = r.get("gamma", (int, float, type(None)), None)
    colormaps = r.get("colormaps", dict, DisplaySettings().colormaps)
    if not all(isinstance(v, str) for v in colormaps.values()):
        raise _SchemaError("display.colormaps values must be colour-map names")
    view_mode = r.get("view_mode", str, "image")
    viewport = r.get("viewport", (list, type(None)), None)
    if viewport is not None and (len(viewport) != 3 or not all(isinstance(v, (int, float)) for v in viewport)
                                 or viewport[2] <= 0):
        raise _SchemaError("display.viewport must be [centre x, centre y, zoom > 0]")
    active_roi = r.get("active_roi", str, "")
    r.done()
    return DisplaySettings(exposure, None if gamma is None else float(gamma), dict(colormaps), view_mode,
                           None if viewport is None else tuple(float(v) for v in viewport), active_roi)


def _check_references(doc: SessionDoc) -> None:
    for what, items in (("input", doc.inputs), ("method", doc.methods), ("ROI", doc.rois)):
        ids = [i.id for i in items]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise _SchemaError(f"{what} ids must be unique, repeated: {dupes}")
    input_ids = {i.id for i in doc.inputs}
    if doc.reference and doc.reference not in input_ids:
        raise _SchemaError(f"reference '{doc.reference}' is not one of the inputs")
    for m in doc.methods:
        if isinstance(m.options, InputOptions) and m.options.input_id not in input_ids:
            raise _SchemaError(f"method '{m.id}' shows input '{m.options.input_id}', which is not one of the inputs")


# ----------------------------------------------------------------------------- files

def save(doc: SessionDoc, path: str | os.PathLike) -> Path:
    """Write `doc` to `path` atomically (temp file in the same directory, then os.replace)."""
    path = Path(path)
    from_json_dict(json.loads(json.dumps(to_json_dict(doc))))  # refuse to write what load would refuse
    text = json.dumps(to_json_dict(doc), indent=2, ensure_ascii=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Readers see the old file or the new one, never half of one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # os.open with mode 0o666 lets the umask decide permissions, as for any new file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: str | os.PathLike) -> SessionDoc:
    """Read, migrate and validate a session file. Raises InputError with a one-line reason."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"session file not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path.name} is not a readable session file: {e}") from None
    try:
        return from_json_dict(migrate(raw))
    except ValueError as e:
        raise InputError(f"{path.name}: {e}") from None


def migrate(raw: Any) -> dict:
    """Bring a parsed document to FORMAT_VERSION through MIGRATIONS (ValueError if impossible)."""
    if not isinstance(raw, dict) or raw.get("format") != FORMAT_NAME:
        raise _SchemaError(f"not an ISP Viewer session (expected \"format\": \"{FORMAT_NAME}\")")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _SchemaError(f"session.version must be an integer, got {version!r}")
    if version > FORMAT_VERSION:
        raise _SchemaError(f"written by a newer ISP Viewer (format version {version}; this one reads up to "
                           f"{FORMAT_VERSION}); please update")
    while version < FORMAT_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise _SchemaError(f"format version {version} is too old and has no migration")
        raw = step(dict(raw))
        version += 1
        raw["version"] = version
    return raw


# ----------------------------------------------------------------------------- autosave

def autosave_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.with_name(path.name + AUTOSAVE_SUFFIX)


def find_recovery(path: str | os.PathLike) -> Path | None:
    """The autosave of `path` if it is newer than the file (or the file is gone), else None."""
    auto = autosave_path(path)
    if not auto.is_file():
        return None
    try:
        saved = Path(path).stat().st_mtime_ns
    except FileNotFoundError:
        return auto
    return auto if auto.stat().st_mtime_ns > saved else None


def recover(path: str | os.PathLike) -> SessionDoc | None:
    """The autosaved session when `find_recovery` finds one, else None. The autosave sits beside
    the file, so its relative paths resolve against the same directory."""
    auto = find_recovery(path)
    return load(auto) if auto is not None else None


class Autosaver:
    """Debounced autosave to `<file>.autosave`, without Qt.

    Call `touch(doc)` on every change. The latest document is written once changes have been
    quiet for `delay_s`, or when the oldest unsaved change is `max_wait_s` old (continuous
    editing still gets saved). Writes happen inside `touch`, `poll` or `flush`, on the caller's
    thread; pass `schedule(delay_s, callback)` (e.g. QTimer.singleShot wrapped) to be called
    back for a trailing write, or call `poll()` from a timer. `flush()` writes at once;
    `discard()` removes the autosave after the real file was saved.
    """

    def __init__(self, session_path: str | os.PathLike, delay_s: float = 2.0, max_wait_s: float | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 schedule: Callable[[float, Callable[[], Any]], Any] | None = None) -> None:
        self.path = autosave_path(session_path)
        self.delay_s = delay_s
        self.max_wait_s = 5 * delay_s if max_wait_s is None else max_wait_s
        self._clock, self._schedule = clock, schedule
        self._lock = threading.Lock()
        self._pending: SessionDoc | None = None
        self._first_change = self._last_change = 0.0
        self.writes = 0

    @property
    def dirty(self) -> bool:
        return self._pending is not None

    def touch(self, doc: SessionDoc) -> bool:
        """Record a change; returns True when this call wrote the autosave."""
        now = self._clock()
        with self._lock:
            if self._pending is None:
                self._first_change = now
            self._pending, self._last_change = doc, now
        if self.poll():
            return True
        if self._schedule is not None:
            self._schedule(self.delay_s, self.poll)
        return False

    def poll(self) -> bool:
        """Write the pending document if it is due; returns True when it wrote."""
        now = self._clock()
        with self._lock:
            due = self._pending is not None and (now - self._last_change >= self.delay_s
                                                 or now - self._first_change >= self.max_wait_s)
        return self.flush() if due else False

    def flush(self) -> bool:
        """Write the pending document now; returns True when there was one."""
        with self._lock:
            doc, self._pending = self._pending, None
            if doc is None:
                return False
            save(doc, self.path)
            self.writes += 1
        return True

    def discard(self) -> None:
        with self._lock:
            self._pending = None
            self.path.unlink(missing_ok=True)
