"""demosaicnet (Gharbi, Chaurasia, Paris, Durand, SIGGRAPH Asia 2016), the released PyTorch models.

Upstream: mgharbi/demosaicnet @ 959e9d1 and PyPI demosaicnet==0.0.14 (MIT); facts in reference
NETWORKS.md §6.

* Bayer: a learned 2x2 stride-2 conv packs the mosaic, 15 valid 3x3 convs + ReLU run at half
  resolution (the last one gives 2·64 channels, split into filters and masks that are
  multiplied), a 1x1 conv predicts 12 channels, a grouped 2x2 stride-2 transposed conv brings
  them to full resolution, the centre-cropped mosaic is concatenated, and a valid 3x3 conv +
  ReLU + 1x1 conv give RGB. Trained on the GRBG phase.
* X-Trans: 11 valid 3x3 convs + ReLU at full resolution, the same skip and output head.
  Trained on the 6x6 cell of upstream mosaic.py.

The networks eat a 3-channel mosaic (each pixel's value in its own colour channel, zeros in the
other two), use valid convolutions (the output shrinks by 62 px for Bayer and 24 px for X-Trans)
and were trained on sRGB-encoded images. Weights ship inside the PyPI wheel; its package cannot
be imported (modules.py needs pkg_resources), so `packaged_weight_path` finds the files without
importing it.

Borders (how `infer_*` gets a full-size result): the mosaic is mirrored outward about a pixel
row/column, which never moves a pixel to a position of another colour when the mirror row has
the right phase:

* Bayer: mirroring about any pixel keeps parity, so numpy-style reflect padding keeps the 2x2
  pattern; the top/left pad is 32 plus the input's offset to the GRBG phase, so the packing
  grid sees GRBG.
* X-Trans: plain reflect padding (mirror about the first row) breaks the 6x6 pattern. The
  cell is mirror-symmetric about its rows 1 and 4 (and columns 1 and 4), so we mirror about the
  first row (column) within 0..2 whose phase is 1 or 4 — and likewise at the far side. Pixels
  between the image edge and that row are kept; the pad holds real same-colour samples a few
  pixels further in. Whole-cell periodic copies would also keep the pattern but put content
  from 6+ px away next to the edge on every period. Measured with the real weights on 200x200
  Kodak crops: PSNR of the outer 12 px band with this mirror 36.4-42.1 dB (about the interior's),
  periodic copies within 0.4 dB (mostly lower), plain reflect 1.0-6.2 dB lower.
"""

from __future__ import annotations

import importlib.util
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from isp_viewer.core.errors import ModelError
from isp_viewer.models.nets._bayer import TRAINED_XTRANS_CELL
from isp_viewer.models.spec import InputConvention, InputKind, ModelSpec, Task, WeightFile

WIDTH = 64
BAYER_DEPTH = 15
XTRANS_DEPTH = 11

BAYER_CFA = "GRBG"  # G at (0,0), R at (0,1), B at (1,0): demosaicnet.mosaic.bayer
XTRANS_CFA = TRAINED_XTRANS_CELL  # demosaicnet.mosaic.xtrans_cell, row-major
XTRANS_MIRROR_PHASES = (1, 4)  # cell rows/columns the 6x6 pattern is mirror-symmetric about

BAYER_SHRINK = 31   # output pixels lost per side by the valid convolutions
XTRANS_SHRINK = 12
BAYER_MIN_SIZE = 8
XTRANS_MIN_SIZE = 12

CHANNEL_OF = {"R": 0, "G": 1, "B": 2}
BAYER_SHA256 = "a90f45c34b89fea3faf49060687839a7d191d302f597a302b31d1bbc021ff7d8"
XTRANS_SHA256 = "3759a13296fecebae83a36a8f0c3890d8a2f7d33e5f8149ed9b76a70f8285bc7"
PAPER = ("Gharbi, Chaurasia, Paris, Durand, Deep Joint Demosaicking and Denoising, "
         "ACM TOG 35(6) (SIGGRAPH Asia 2016)")


# --- networks ----------------------------------------------------------------------------------


def _valid_conv_stack(first_in: int, depth: int, last_out: int) -> OrderedDict[str, nn.Module]:
    """conv1, relu1, ..., conv{depth}, relu{depth}: 3x3 valid convs, width WIDTH in between."""
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    for i in range(1, depth + 1):
        c_in = first_in if i == 1 else WIDTH
        c_out = last_out if i == depth else WIDTH
        layers[f"conv{i}"] = nn.Conv2d(c_in, c_out, 3)
        layers[f"relu{i}"] = nn.ReLU()
    return layers


def _output_head(c_in: int) -> nn.Sequential:
    """Full-resolution head: valid 3x3 conv + ReLU, then 1x1 conv to RGB."""
    return nn.Sequential(OrderedDict([
        ("post_conv", nn.Conv2d(c_in, WIDTH, 3)),
        ("post_relu", nn.ReLU()),
        ("output", nn.Conv2d(WIDTH, 3, 1)),
    ]))


def _center_crop_like(src: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Crop src's last two dims to ref's, dropping the extra row/column (if odd) at the end."""
    dh, dw = src.shape[-2] - ref.shape[-2], src.shape[-1] - ref.shape[-1]
    top, left = dh // 2, dw // 2
    return src[..., top:top + ref.shape[-2], left:left + ref.shape[-1]]


class BayerDemosaick(nn.Module):
    """forward: (N, 3, H, W) GRBG 3-channel mosaic, H and W even → (N, 3, H - 62, W - 62) RGB, not clamped."""

    def __init__(self) -> None:
        super().__init__()
        # The stride-2 packing conv makes the rest of the net see whole 2x2 cells.
        layers: OrderedDict[str, nn.Module] = OrderedDict([("pack_mosaic", nn.Conv2d(3, 4, 2, stride=2))])
        layers.update(_valid_conv_stack(4, BAYER_DEPTH, 2 * WIDTH))
        self.main_processor = nn.Sequential(layers)
        self.residual_predictor = nn.Conv2d(WIDTH, 12, 1)
        self.upsampler = nn.ConvTranspose2d(12, 3, 2, stride=2, groups=3)
        self.fullres_processor = _output_head(3 + 3)

    def forward(self, mosaic: torch.Tensor) -> torch.Tensor:
        features = self.main_processor(mosaic)
        filters, masks = features[:, :WIDTH], features[:, WIDTH:]
        upsampled = self.upsampler(self.residual_predictor(filters * masks))
        skip = _center_crop_like(mosaic, upsampled)
        return self.fullres_processor(torch.cat([skip, upsampled], dim=1))


class XTransDemosaick(nn.Module):
    """forward: (N, 3, H, W) X-Trans 3-channel mosaic → (N, 3, H - 24, W - 24) RGB, not clamped."""

    def __init__(self) -> None:
        super().__init__()
        self.main_processor = nn.Sequential(_valid_conv_stack(3, XTRANS_DEPTH, WIDTH))
        self.fullres_processor = _output_head(3 + WIDTH)

    def forward(self, mosaic: torch.Tensor) -> torch.Tensor:
        features = self.main_processor(mosaic)
        skip = _center_crop_like(mosaic, features)
        return self.fullres_processor(torch.cat([skip, features], dim=1))


def build_demosaicnet_bayer() -> nn.Module:
    return BayerDemosaick().float().eval()


def build_demosaicnet_xtrans() -> nn.Module:
    return XTransDemosaick().float().eval()


# --- weights shipped in the wheel --------------------------------------------------------------


def packaged_weight_path(name: str) -> Path | None:
    """Path of `name` (e.g. "bayer.pth") in the installed demosaicnet package's data/ folder.

    Finds the package with importlib's spec lookup, which for a top-level package does not run
    its __init__ (that import fails on current setuptools). None when the package or file is
    absent.
    """
    if not name or Path(name).name != name:
        return None
    try:
        spec = importlib.util.find_spec("demosaicnet")
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    for folder in spec.submodule_search_locations or ():
        candidate = Path(folder) / "data" / name
        if candidate.is_file():
            return candidate
    return None


# --- CFA handling ------------------------------------------------------------------------------


def _cell(cfa: str) -> np.ndarray:
    n = int(round(len(cfa) ** 0.5))
    return np.array(list(cfa.upper())).reshape(n, n)


def cell_shift(cfa: str, trained: str) -> tuple[int, int] | None:
    """(dy, dx) with cfa_cell[(y + dy) % n, (x + dx) % n] == trained_cell[y, x], or None.

    Input pixel (dy, dx) then starts a copy of the trained cell.
    """
    got, want = _cell(cfa), _cell(trained)
    n = want.shape[0]
    for dy in range(n):
        for dx in range(n):
            if np.array_equal(np.roll(got, (-dy, -dx), axis=(0, 1)), want):
                return dy, dx
    return None


def cfa_channel_map(cfa: str, height: int, width: int) -> np.ndarray:
    """HxW int8 colour index (0 R, 1 G, 2 B) of each pixel for a CFA cell repeated from (0, 0)."""
    lut = np.array([CHANNEL_OF[c] for c in cfa.upper()], np.int8).reshape(_cell(cfa).shape)
    n = len(lut)
    return lut[np.arange(height)[:, None] % n, np.arange(width)[None, :] % n]


def _three_channel(mosaic: np.ndarray, channels: np.ndarray) -> np.ndarray:
    """3xHxW float32: each pixel's value in its own colour channel, zeros in the other two."""
    return np.stack([np.where(channels == c, mosaic, 0.0) for c in range(3)]).astype(np.float32)


def _fold(n: int, before: int, after: int, first_mirror: int, last_mirror: int) -> np.ndarray:
    """Source index for each of the n + before + after positions of a mirror-padded axis.

    Outside [0, n) a position is mirrored about pixel `first_mirror` (before the start) or
    `last_mirror` (past the end), repeatedly if the pad is longer than the image. Mirroring
    about pixel c maps i to 2c - i, which keeps i's CFA phase when the pattern is symmetric
    about c.
    """
    idx = np.arange(-before, n + after)
    for _ in range(64):
        low, high = idx < 0, idx > n - 1
        if not (low.any() or high.any()):
            return idx
        idx = np.where(low, 2 * first_mirror - idx, idx)
        idx = np.where(idx > n - 1, 2 * last_mirror - idx, idx)
    raise ModelError(f"cannot pad an image side of {n} px")  # only for degenerate sizes


def _mirror_rows(n: int, phase0: int, period: int, phases: tuple[int, ...]) -> tuple[int, int]:
    """First and last pixel in [0, n) whose cell phase ((i + phase0) % period) is in `phases`."""
    hits = [i for i in range(n) if (i + phase0) % period in phases]
    return hits[0], hits[-1]


NO_CONTEXT = (0, 0, 0, 0)


def _bayer_axis_pads(n: int, shift: int, before_ctx: int, after_ctx: int) -> tuple[int, int]:
    """(before, after) pads of one axis; negative pads crop. Before keeps the parity of `shift` (so
    the padded mosaic starts with GRBG) and, with the context, leaves BAYER_SHRINK pixels ahead of
    the first pixel that needs output; after makes the padded length even (the 2x2 packing)."""
    before = BAYER_SHRINK - before_ctx
    before += (before - shift) % 2
    after = BAYER_SHRINK - after_ctx
    after += (before + n + after) % 2
    return before, after


def bayer_padding(h: int, w: int, shift: tuple[int, int],
                  context: tuple[int, int, int, int] = NO_CONTEXT) -> tuple[np.ndarray, np.ndarray]:
    """Source rows and columns of the padded Bayer mosaic fed to the network.

    shift: the input pixel where a GRBG cell starts (`cell_shift`). Without context top/left get
    32 + shift (so the padded mosaic starts with GRBG), bottom/right 31 or 32 (so the padded size
    is even, as the 2x2 packing needs); all by mirroring about the edge pixels, which keeps parity.
    context (top, bottom, left, right): real pixels at a side that need no output; the network's
    31 px of context come from them instead of the mirror (the side is cropped past 31).
    """
    top, bottom = _bayer_axis_pads(h, shift[0], context[0], context[1])
    left, right = _bayer_axis_pads(w, shift[1], context[2], context[3])
    return _fold(h, top, bottom, 0, h - 1), _fold(w, left, right, 0, w - 1)


def xtrans_padding(h: int, w: int, shift: tuple[int, int],
                   context: tuple[int, int, int, int] = NO_CONTEXT) -> tuple[np.ndarray, np.ndarray]:
    """Source rows and columns of the X-Trans mosaic padded by 12 px per side.

    shift: the input pixel where a copy of the trained cell starts, so input pixel i sits at
    cell phase (i - shift) % 6. Each side mirrors about the nearest pixel of phase 1 or 4.
    context (top, bottom, left, right): real pixels at a side that need no output; they replace
    the mirror (12 - context: a negative pad crops; the network has no stride, so no phase rule).
    """
    first_r, last_r = _mirror_rows(h, -shift[0], 6, XTRANS_MIRROR_PHASES)
    first_c, last_c = _mirror_rows(w, -shift[1], 6, XTRANS_MIRROR_PHASES)
    top, bottom, left, right = (XTRANS_SHRINK - c for c in context)
    return _fold(h, top, bottom, first_r, last_r), _fold(w, left, right, first_c, last_c)


def _checked_context(context: tuple[int, int, int, int] | None, h: int, w: int) -> tuple[int, int, int, int]:
    if context is None:
        return NO_CONTEXT
    top, bottom, left, right = (int(c) for c in context)
    if min(top, bottom, left, right) < 0 or top + bottom >= h or left + right >= w:
        raise ModelError(f"tile context {context} does not fit a {w}x{h} tile")
    return top, bottom, left, right


def _pad(array: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return array[..., rows[:, None], cols[None, :]]


# --- inference ---------------------------------------------------------------------------------


def _check_mosaic(x: np.ndarray, cfa: str | None, kind: str, cell_len: int, min_size: int) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim == 3:
        raise ModelError(f"demosaicnet ({kind}) demosaicks a RAW mosaic; it cannot take an RGB image")
    if arr.ndim != 2:
        raise ModelError(f"demosaicnet ({kind}) expects an HxW mosaic, got an array of shape {arr.shape}")
    if not cfa:
        raise ModelError(f"demosaicnet ({kind}) needs the mosaic's CFA pattern")
    if set(cfa.upper()) - set("RGB"):
        raise ModelError(f"CFA pattern '{cfa}' has letters other than R, G, B")
    if len(cfa) != cell_len:
        other = {4: "a 2x2 Bayer", 36: "an X-Trans"}.get(len(cfa), f"the '{cfa}'")
        raise ModelError(f"demosaicnet ({kind}) cannot take {other} CFA")
    if min(arr.shape) < min_size:
        raise ModelError(f"mosaic of {arr.shape[1]}x{arr.shape[0]} px is too small for demosaicnet ({kind}); "
                         f"it needs at least {min_size}x{min_size}")
    return arr.astype(np.float32, copy=False)


def _srgb_encode(linear: np.ndarray) -> np.ndarray:
    v = np.clip(linear, 0.0, 1.0)
    return np.where(v <= 0.0031308, 12.92 * v, 1.055 * np.power(v, 1 / 2.4) - 0.055).astype(np.float32)


def _srgb_decode(encoded: np.ndarray) -> np.ndarray:
    v = np.clip(encoded, 0.0, 1.0)
    return np.where(v <= 0.04045, v / 12.92, np.power((v + 0.055) / 1.055, 2.4)).astype(np.float32)


def _run(net: nn.Module, mosaic3: np.ndarray, device: str | torch.device, dtype: torch.dtype) -> np.ndarray:
    net = net.to(device=device, dtype=dtype).eval()
    batch = torch.from_numpy(np.ascontiguousarray(mosaic3))[None].to(device=device, dtype=dtype)
    with torch.inference_mode():
        out = net(batch)[0]
    return out.float().cpu().numpy()


def _finish(rgb_chw: np.ndarray, srgb_transfer: bool) -> np.ndarray:
    rgb = np.clip(rgb_chw.transpose(1, 2, 0), 0.0, 1.0)
    if srgb_transfer:
        rgb = _srgb_decode(rgb)
    return np.ascontiguousarray(rgb, dtype=np.float32)


def infer_demosaicnet_bayer(net: nn.Module, x: np.ndarray, *, cfa: str | None = None,
                            device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
                            srgb_transfer: bool = False, context: tuple[int, int, int, int] | None = None,
                            **options) -> np.ndarray:
    """Demosaick a Bayer mosaic of any 2x2 phase.

    x: HxW float32 mosaic in [0, 1]; cfa: "RGGB", "BGGR", "GRBG" or "GBRG". Returns HxWx3 float32
    in [0, 1] on the input's pixel grid, in the input's encoding. The network was trained on
    sRGB-encoded mosaics; srgb_transfer=True sRGB-encodes a linear mosaic before the network and
    decodes the result back to linear.

    The mosaic is mirror-padded (parity-preserving) by 32 + the offset to the GRBG phase on the
    top/left and by 31 or 32 on the bottom/right so the padded size is even, then the valid
    convolutions' output (31 px smaller per side) is cropped back onto the input grid.
    context (top, bottom, left, right), given by the engine's tiles: real pixels at those sides;
    the result then covers only the rest, (H - top - bottom) x (W - left - right).
    """
    mosaic = _check_mosaic(x, cfa, "Bayer", 4, BAYER_MIN_SIZE)
    assert cfa is not None   # _check_mosaic refuses a missing CFA
    shift = cell_shift(cfa, BAYER_CFA)
    if shift is None:
        raise ModelError(f"demosaicnet (Bayer) cannot take the CFA '{cfa}': not a Bayer pattern")
    if srgb_transfer:
        mosaic = _srgb_encode(mosaic)
    h, w = mosaic.shape
    ct, cb, cl, cr = context = _checked_context(context, h, w)
    rows, cols = bayer_padding(h, w, shift, context)
    mosaic3 = _three_channel(_pad(mosaic, rows, cols), _pad(cfa_channel_map(cfa, h, w), rows, cols))
    out = _run(net, mosaic3, device, dtype)
    # Output pixel j sits on padded pixel j + 31, i.e. on input pixel j + 31 - top pad.
    top, left = _bayer_axis_pads(h, shift[0], ct, cb)[0], _bayer_axis_pads(w, shift[1], cl, cr)[0]
    y0, x0 = ct + top - BAYER_SHRINK, cl + left - BAYER_SHRINK
    return _finish(out[:, y0:y0 + h - ct - cb, x0:x0 + w - cl - cr], srgb_transfer)


def infer_demosaicnet_xtrans(net: nn.Module, x: np.ndarray, *, cfa: str | None = None,
                             device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
                             srgb_transfer: bool = False, context: tuple[int, int, int, int] | None = None,
                             **options) -> np.ndarray:
    """Demosaick an X-Trans mosaic whose 6x6 cell is any shifted copy of demosaicnet's.

    x: HxW float32 mosaic in [0, 1]; cfa: 36 letters R/G/B, the 6x6 cell read row-major from
    pixel (0, 0). Returns HxWx3 float32 in [0, 1] on the input grid (srgb_transfer as for Bayer).

    The network has no stride, so a shifted cell needs no data movement: every pixel still sees
    the trained neighbourhood pattern. The 12 px per side of context are mirror-padded about a
    row/column whose cell phase is 1 or 4, where the pattern is mirror-symmetric (module
    docstring), so the padded border carries a valid X-Trans pattern. context as for Bayer.
    """
    mosaic = _check_mosaic(x, cfa, "X-Trans", 36, XTRANS_MIN_SIZE)
    assert cfa is not None   # _check_mosaic refuses a missing CFA
    shift = cell_shift(cfa, XTRANS_CFA)
    if shift is None:
        raise ModelError("demosaicnet (X-Trans) cannot take this 6x6 CFA: it is not a shifted copy "
                         "of the X-Trans cell the network was trained on")
    if srgb_transfer:
        mosaic = _srgb_encode(mosaic)
    h, w = mosaic.shape
    rows, cols = xtrans_padding(h, w, shift, _checked_context(context, h, w))
    mosaic3 = _three_channel(_pad(mosaic, rows, cols), _pad(cfa_channel_map(cfa, h, w), rows, cols))
    return _finish(_run(net, mosaic3, device, dtype), srgb_transfer)


# --- descriptors -------------------------------------------------------------------------------

# Trained on mosaics sampled from (white-balanced) sRGB photos: a camera RAW is given white-balanced.
DEMOSAICNET_MOSAIC = InputConvention(
    white_balance="camera", black_level="subtract", colour_space="camera RGB, linear (option srgb_transfer encodes it)",
    source="NETWORKS.md §6 Input [code]: mgharbi/demosaicnet mosaics of sRGB images in [0, 1]",
)

SPECS: list[ModelSpec] = [
    ModelSpec(
        id="demosaicnet_bayer",
        fp16=True, bf16=True,  # measured: tests/models/test_precision.py
        name="demosaicnet (Bayer)",
        task=Task.DEMOSAICK,
        input_kind=InputKind.BAYER,
        build=build_demosaicnet_bayer,
        infer=infer_demosaicnet_bayer,
        manifest="demosaicnet_bayer.json",
        output_scale=1,
        size_multiple=2,
        min_size=BAYER_MIN_SIZE,
        tiling_safe=True,
        tile_overlap=32,
        tile_align=2,
        takes_context=True,
        peak_bytes_per_pixel=950,     # bench/tile_memory.py: 708 at 1024², slope 835 from 768² to 1536²
        weights=(WeightFile(("bayer.pth",), BAYER_SHA256, "shipped in the demosaicnet wheel (data/bayer.pth)"),),
        packaged_weights="demosaicnet:bayer.pth",
        paper=PAPER,
        license="MIT",
        non_commercial=False,
        reported_metrics=(
            "Noise-free demosaicking about 41 dB on Kodak, 39-40 dB on McMaster [unverified, from the paper]. "
            "Measured here (tests/models/test_demosaicnet.py): 8 Kodak 500x500 crops, GRBG mosaic of the sRGB "
            "PNG, RGB PSNR with 4 px border cropped: mean 41.43 dB vs colour-demosaicing bilinear 28.12 dB [verified]."
        ),
        notes=(
            "Demosaick-only PyTorch release (the noise-aware model exists only in the old Caffe code). "
            "Trained on sRGB-encoded images: linear RAW mosaics are off its training distribution "
            "(option srgb_transfer=True encodes before and decodes after). Any Bayer phase (shifted to GRBG); "
            "borders by parity-preserving mirror padding. Output clipped to [0, 1]; upstream does not clamp. "
            "Input convention: " + DEMOSAICNET_MOSAIC.describe() + "."
        ),
        input_convention=DEMOSAICNET_MOSAIC,
    ),
    ModelSpec(
        id="demosaicnet_xtrans",
        fp16=True, bf16=True,  # measured: tests/models/test_precision.py
        name="demosaicnet (X-Trans)",
        task=Task.DEMOSAICK,
        input_kind=InputKind.XTRANS,
        build=build_demosaicnet_xtrans,
        infer=infer_demosaicnet_xtrans,
        manifest="demosaicnet_xtrans.json",
        output_scale=1,
        size_multiple=1,
        min_size=XTRANS_MIN_SIZE,
        tiling_safe=True,
        tile_overlap=XTRANS_SHRINK,
        tile_align=6,
        takes_context=True,
        peak_bytes_per_pixel=1550,    # bench/tile_memory.py: 1312 at 1024², slope 1368 from 768² to 1536²
        weights=(WeightFile(("xtrans.pth",), XTRANS_SHA256, "shipped in the demosaicnet wheel (data/xtrans.pth)"),),
        packaged_weights="demosaicnet:xtrans.pth",
        paper=PAPER,
        license="MIT",
        non_commercial=False,
        reported_metrics="No X-Trans figures in NETWORKS.md.",
        notes=(
            "Demosaick-only. Trained on sRGB-encoded images (see srgb_transfer). Accepts any 6x6 cell that "
            "is a shifted copy of upstream's (this includes the R/B-swapped and transposed forms, which are "
            "shifts of it). Borders: mirror padding about a row/column of cell phase 1 or 4, which keeps "
            "the 6x6 pattern. Output clipped to [0, 1]. Input convention: " + DEMOSAICNET_MOSAIC.describe() + "."
        ),
        input_convention=DEMOSAICNET_MOSAIC,
    ),
]
