"""Kokkinos & Lefkimmiatis iterative demosaicking ("MMNet", ECCV 2018 / TIP 2019), official weights.

Upstream: cig-skoltech/deep_demosaick @ 3ba7b86 (MIT); written here from reference
kokkinos/FACTS.md (never from upstream code). Input preparation, X-Trans labelling and the noise
estimator live in kokkinos_cfa.py.

K = 20 stages of majorisation-minimisation on [0, 255] values:
    u_k     = x_k + exp(w[k]) * (x_k - x_{k-1})   (k >= 1; u_0 = x_0)
    z_k     = u_k - (M * u_k - y)                 (observed samples replaced by y)
    x_{k+1} = clamp(z_k - D(z_k, L, alpha[k]), 0, 255)
with x_0 the bilinear init (Bayer models) or y, and D a weight-normalised pre-activation ResDNet
(5x5 conv, five blocks of PReLU-conv3x3-PReLU-conv3x3 with a skip from block 1 on, reflect
padding, a transposed 5x5 output conv with zero padding) whose output is projected onto the L2
ball of radius exp(alpha[k]) * L * sqrt(3*H*W - 1). H and W are the whole input's, so a tile
is not a crop of the whole-frame result: the descriptor says tiling_safe=False and the engine
runs it whole; infer offers upstream's block mode (frame="blocks": 512x512 blocks, each
reflect-padded by 8 px) and uses it by itself above WHOLE_FRAME_MAX_PIXELS (frame="auto").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from isp_viewer.core.errors import ModelError
from isp_viewer.models.nets import kokkinos_cfa as cfa_io
from isp_viewer.models.spec import InputKind, ModelSpec, Task, WeightFile

WIDTH = 64
DEPTH = 5
STAGES = 20
BLOCK = 512                          # upstream notebook's block side (Bayer)
BLOCK_MARGIN = 8                     # its reflect margin per side
XTRANS_BLOCK, XTRANS_MARGIN = 510, 12  # multiples of the 6x6 cell, so blocks keep the anchor
MIN_REMAINDER = 32                   # a last block thinner than this joins its neighbour
WHOLE_FRAME_MAX_PIXELS = 2_000_000   # frame="auto": whole frame up to this (measured: +1.8 GB per MP on CPU)
FRAMES = ("auto", "whole", "blocks")
PAPER = ("Kokkinos, Lefkimmiatis, Deep Image Demosaicking using a Cascade of Convolutional Residual "
         "Denoising Networks, ECCV 2018; Iterative Joint Image Demosaicking and Denoising using a "
         "Residual Denoising Network, IEEE TIP 28(8) 2019")
SHA256 = {
    "bayer": "9997519fc1752d5b9e727ebb726ec24f23d80fd2a519e766b92d01b4dd9b0f7c",
    "bayer_noisy": "2a5c605b75545e3afddf40d2e22ba6aff1617d1054c03eea1e9a3ba54ebd4ab9",
    "xtrans": "98608c712c7f6414d9c453828cf45a093d8c761fc2ac2d0450841eaf2224151d",
}

Progress = Callable[[float], None]


# --- network ------------------------------------------------------------------------------------


class WeightNormConv(nn.Module):
    """A conv whose weight is g * v / ||v|| (norm over all dims but 0), stored as weight_g/weight_v.

    transposed=True: a stride-1 ConvTranspose2d with weight layout (in, out, k, k); dim 0, whose
    norms are taken, is then the input channel.
    """

    def __init__(self, c_in: int, c_out: int, k: int, transposed: bool = False) -> None:
        super().__init__()
        self.transposed = transposed
        shape = (c_in, c_out, k, k) if transposed else (c_out, c_in, k, k)
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.weight_g = nn.Parameter(torch.ones(shape[0], 1, 1, 1))
        self.weight_v = nn.Parameter(torch.randn(shape) * 0.01)

    def weight(self) -> torch.Tensor:
        v = self.weight_v
        return self.weight_g * v / v.flatten(1).norm(dim=1).view(-1, 1, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.weight_v.shape[-1]
        if self.transposed:
            return F.conv_transpose2d(x, self.weight(), self.bias, padding=k // 2)
        return F.conv2d(F.pad(x, (k // 2,) * 4, mode="reflect"), self.weight(), self.bias)


class PreActBlock(nn.Module):
    """PReLU, reflect-padded 3x3 conv, PReLU, reflect-padded 3x3 conv (the skip is the caller's)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = WeightNormConv(WIDTH, WIDTH, 3)
        self.relu1 = nn.PReLU(WIDTH)
        self.relu2 = nn.PReLU(WIDTH)
        self.conv2 = WeightNormConv(WIDTH, WIDTH, 3)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.relu2(self.conv1(self.relu1(h))))


class ResDNet(nn.Module):
    """The residual denoiser: (N,3,H,W) in [0,255] -> the residual before the L2 projection."""

    def __init__(self, depth: int = DEPTH) -> None:
        super().__init__()
        self.conv1 = WeightNormConv(3, WIDTH, 5)
        self.layer1 = nn.ModuleList(PreActBlock() for _ in range(depth))
        self.conv_out = WeightNormConv(WIDTH, 3, 5, transposed=True)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.conv1(z)
        for i, block in enumerate(self.layer1):
            t = block(h)
            h = t if i == 0 else h + t     # block 0 has no skip
        return self.conv_out(h)


def l2_project(residual: torch.Tensor, noise: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """residual scaled onto the ball of radius exp(alpha) * L * sqrt(C*H*W - 1) when outside it."""
    _, c, h, w = residual.shape
    size = torch.sqrt(torch.tensor(float(c * h * w - 1), dtype=torch.float32)).to(residual)
    eps = (torch.exp(alpha) * noise.to(residual) * size).view(-1, 1, 1, 1)
    norm = residual.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    return residual * eps / torch.maximum(norm, eps)


class MMNet(nn.Module):
    """alpha (K,) and w (K,) per-stage scalars, `model` the shared denoiser (upstream's keys)."""

    def __init__(self, stages: int = STAGES, depth: int = DEPTH) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.zeros(stages))
        self.w = nn.Parameter(torch.zeros(stages))
        self.model = ResDNet(depth)

    @property
    def stages(self) -> int:
        return self.alpha.numel()

    def denoise(self, z: torch.Tensor, noise: torch.Tensor, k: int) -> torch.Tensor:
        return l2_project(self.model(z), noise, self.alpha[k])

    def iterate(self, y: torch.Tensor, mask: torch.Tensor, x0: torch.Tensor,
                noise: torch.Tensor) -> Iterator[torch.Tensor]:
        """Yield x_1 .. x_K; y, mask, x0: (N,3,H,W) in [0,255]; noise: L of shape (1,) or (N,)."""
        x_prev, x = x0, x0
        for k in range(self.stages):
            u = x if k == 0 else x + torch.exp(self.w[k]) * (x - x_prev)
            z = u - (mask * u - y)
            x_prev, x = x, torch.clamp(z - self.denoise(z, noise, k), 0, 255)
            yield x

    def forward(self, y: torch.Tensor, mask: torch.Tensor, x0: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        x = x0
        for x in self.iterate(y, mask, x0, noise):  # noqa: B007 (the last stage is the output)
            pass
        return x


def build_kokkinos(stages: int = STAGES) -> nn.Module:
    return MMNet(stages).float().eval()


# --- inference ----------------------------------------------------------------------------------


def _check_mosaic(x: np.ndarray, cfa: str | None, name: str, cell_len: int) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 2:
        raise ModelError(f"{name} demosaicks an HxW RAW mosaic, got an array of shape {arr.shape}")
    if not cfa:
        raise ModelError(f"{name} needs the mosaic's CFA pattern")
    if len(cfa) != cell_len:
        raise ModelError(f"{name} cannot take the CFA '{cfa}' ({'2x2 Bayer' if cell_len == 4 else '6x6 X-Trans'} only)")
    if min(arr.shape) < 8:
        raise ModelError(f"mosaic of {arr.shape[1]}x{arr.shape[0]} px is too small for {name}; it needs 8x8")
    return arr.astype(np.float32, copy=False)


def _axis_blocks(n: int, block: int) -> list[tuple[int, int]]:
    starts = list(range(0, n, block))
    if len(starts) > 1 and n - starts[-1] < MIN_REMAINDER:
        starts.pop()
    return [(a, b) for a, b in zip(starts, starts[1:] + [n])]


def _run_one(net: MMNet, mosaic255: np.ndarray, layout: str, *, init: bool, estimate: bool,
             noise_sigma: float | None, device, dtype, on_stage: Callable[[int], None]) -> np.ndarray:
    """One anchored mosaic (HxW, [0,255]) through all stages: 3xHxW float32 in [0,255]."""
    y_np, m_np = cfa_io.masked_mosaic(mosaic255, layout)
    y = torch.from_numpy(y_np)[None].to(device=device, dtype=dtype)
    m = torch.from_numpy(m_np)[None].to(device=device, dtype=dtype)
    if noise_sigma is not None:
        noise = torch.tensor([float(noise_sigma)])
    elif estimate:
        noise = cfa_io.wmad_sigma(y)
    else:
        noise = torch.tensor([1.0])
    noise = noise.to(device=device, dtype=dtype)
    x0 = cfa_io.bilinear_init(y) if init else y
    x = x0
    for k, x in enumerate(net.iterate(y, m, x0, noise)):  # noqa: B007 (the last stage is the output)
        on_stage(k + 1)
    return x[0].float().cpu().numpy()


def infer_kokkinos(net: MMNet, x: np.ndarray, *, cfa: str | None = None, device="cpu",
                   dtype: torch.dtype = torch.float32, xtrans: bool = False, init: bool = True,
                   estimate_noise: bool = False,
                   noise_sigma: float | None = None, frame: str = "auto", labelling: str = "swapped",
                   progress: Progress | None = None, **options) -> np.ndarray:
    """Demosaick a Bayer (any 2x2 phase) or X-Trans mosaic (any shift of the 6x6 cell).

    x: HxW float32 in [0, 1]; cfa: 4 or 36 letters read row-major from pixel (0, 0). Returns HxWx3
    float32 in [0, 1] on the input grid. noise_sigma (of 255) overrides the noise level L (default:
    WMAD estimate when estimate_noise, else upstream's L = 1). frame: "whole" (one pass), "blocks"
    (upstream's notebook: 512x512 blocks, 8 px reflect margins, each its own L2 radius and noise
    estimate), "auto" (whole up to WHOLE_FRAME_MAX_PIXELS). progress(fraction) after each stage.
    xtrans, init, estimate_noise are bound per variant in SPECS; labelling: see kokkinos_cfa.
    """
    if frame not in FRAMES:
        raise ModelError(f"frame must be one of {FRAMES}, not {frame!r}")
    if noise_sigma is not None and not (0 <= float(noise_sigma) <= 255):
        raise ModelError(f"noise sigma is in units of 1/255 and must lie in [0, 255], not {noise_sigma}")
    layout = cfa_io.XTRANS_LAYOUT if xtrans else cfa_io.BAYER_ANCHOR
    mosaic = _check_mosaic(x, cfa, "Kokkinos MMNet", 36 if xtrans else 4)
    assert cfa is not None  # _check_mosaic refuses a missing pattern
    offset = cfa_io.anchor_offset(cfa_io.label_cell(cfa, labelling), layout)
    if offset is None:
        raise ModelError(f"Kokkinos MMNet cannot take the CFA '{cfa}': not a shifted copy of {layout[:6]}...")
    period, block, margin = (6, XTRANS_BLOCK, XTRANS_MARGIN) if xtrans else (2, BLOCK, BLOCK_MARGIN)
    h, w = mosaic.shape
    dy, dx = offset
    anchored = cfa_io.pad_mosaic(mosaic * 255.0, dy, dx, 0, 0, period)   # the layout starts at (0, 0)
    whole = frame == "whole" or (frame == "auto" and anchored.size <= WHOLE_FRAME_MAX_PIXELS)
    blocks = ([((0, anchored.shape[0]), (0, anchored.shape[1]))] if whole else
              [(r, c) for r in _axis_blocks(anchored.shape[0], block) for c in _axis_blocks(anchored.shape[1], block)])
    net = net.to(device=device, dtype=dtype).eval()
    run = partial(_run_one, net, layout=layout, init=init, estimate=estimate_noise, noise_sigma=noise_sigma,
                  device=device, dtype=dtype)
    out = np.empty((3,) + anchored.shape, np.float32)
    total = len(blocks) * net.stages
    with torch.inference_mode():
        for i, ((r0, r1), (c0, c1)) in enumerate(blocks):
            def on_stage(k: int, i: int = i) -> None:
                if progress is not None:
                    progress((i * net.stages + k) / total)
            if whole:
                out[:] = run(anchored, on_stage=on_stage)
                continue
            piece = cfa_io.pad_mosaic(anchored[r0:r1, c0:c1], margin, margin, margin, margin, period)
            out[:, r0:r1, c0:c1] = run(piece, on_stage=on_stage)[:, margin:-margin, margin:-margin]
    rgb = out[:, dy:dy + h, dx:dx + w].transpose(1, 2, 0) / 255.0
    return np.ascontiguousarray(np.clip(rgb, 0.0, 1.0), dtype=np.float32)


# --- descriptors --------------------------------------------------------------------------------

_OPTIONS = {"noise_sigma": None, "frame": "auto"}
_COMMON: dict[str, Any] = dict(
    task=Task.DEMOSAICK, output_scale=1, size_multiple=1, min_size=8, tiling_safe=False, tile_overlap=BLOCK_MARGIN,
    paper=PAPER, license="MIT", non_commercial=False, reports_progress=True,
)
_FRAME_NOTE = ("The L2 projection's radius depends on the whole image size, so tiles differ from a whole "
               "frame: it runs whole up to 2 MP (it needs about 1.8 GB per MP) and in upstream's block mode "
               "(512x512 blocks, 8 px reflect margins; option frame=whole|blocks|auto) above. Progress per "
               "stage, cancel between layers. CPU cost is high (measured in bench/inference.py). Values "
               "[0,255] inside; trained on sRGB-encoded mosaics (MSR dataset).")
_PHASE_NOTE = ("Any Bayer phase, moved to the trained RGGB anchor by parity-preserving padding and back "
               "(not upstream's np.roll, whose GRBG case shifts nothing).")


def _weights(folder: str, note: str) -> tuple[WeightFile, ...]:
    # Every upstream file is model_best.pth; the folder name tells the variants apart.
    return (WeightFile((f"kokkinos/{folder}/model_best.pth", f"{folder}/model_best.pth"), SHA256.get(folder), note),)


SPECS: list[ModelSpec] = [
    ModelSpec(
        id="kokkinos_bayer", name="Kokkinos MMNet (Bayer)", input_kind=InputKind.BAYER,
        build=build_kokkinos, infer=partial(infer_kokkinos, init=True, estimate_noise=False),
        manifest="../kokkinos/manifests/kokkinos_bayer.json", tile_align=2,
        weights=_weights("bayer", "pretrained_models/bayer of cig-skoltech/deep_demosaick"),
        reported_metrics=("Upstream on 8 Kodak 500x500 RGGB images, RGB float, range 1, 8 px crop: mean 39.73 dB "
                          "(reference kokkinos/refs.json). Measured here (bench/kokkinos_kodak.py, the eval path): "
                          "mean 39.73 dB, every image within 1e-5 dB of upstream [verified]; other Bayer phases "
                          "differ per image by up to 0.4 dB because they sample the scene at other pixels."),
        notes="Noise-free model, L = 1 (noise_sigma overrides). " + _PHASE_NOTE + " " + _FRAME_NOTE,
        options=dict(_OPTIONS), **_COMMON,
    ),
    ModelSpec(
        id="kokkinos_bayer_noisy", name="Kokkinos MMNet (Bayer, noisy)", input_kind=InputKind.BAYER,
        build=build_kokkinos, infer=partial(infer_kokkinos, init=True, estimate_noise=True),
        manifest="../kokkinos/manifests/kokkinos_bayer_noisy.json", tile_align=2,
        weights=_weights("bayer_noisy", "pretrained_models/bayer_noisy; trained with noise std in about [0, 10]/255"),
        reported_metrics="Upstream on 8 Kodak crops with sigma 5/255 noise, WMAD level: mean 35.10 dB (refs.json).",
        notes=("Joint denoise+demosaick. The noise level L is estimated from the mosaic by wavelet MAD (db7), "
               "which overestimates on natural images as upstream's does (the model was trained that way); "
               "noise_sigma (of 255) gives it instead. " + _PHASE_NOTE + " " + _FRAME_NOTE),
        options=dict(_OPTIONS), **{**_COMMON, "task": Task.JOINT_DENOISE_DEMOSAICK},
    ),
    ModelSpec(
        id="kokkinos_xtrans", name="Kokkinos MMNet (X-Trans)", input_kind=InputKind.XTRANS,
        build=build_kokkinos, infer=partial(infer_kokkinos, xtrans=True, init=False, estimate_noise=False),
        manifest="../kokkinos/manifests/kokkinos_xtrans.json", tile_align=6,
        weights=_weights("xtrans", "pretrained_models/xtrans (the ReadMe calls X-Trans unsupported in its notebook)"),
        reported_metrics=("No upstream X-Trans figures. Measured here (bench/kokkinos_kodak.py): 256x256 top-left "
                          "crops of 8 Kodak images, simulated on upstream's cell, RGB float, crop 8: mean 33.35 dB "
                          "with the swapped labelling (19.8-43.8 dB), 18.57 dB with the literal one (10.1-25.0)."),
        notes=("The shipped X-Trans weights are weaker than the Bayer ones. They give right colours only with R and "
               "B labels swapped against upstream's mask (labelling='swapped', the default; 'literal' is upstream's "
               "function as written, with R/B biased by tens of levels). Any shift of the 6x6 cell, moved to the "
               "trained anchor by whole-cell padding. No bilinear init, L = 1. " + _FRAME_NOTE),
        options={**_OPTIONS, "labelling": "swapped"}, **_COMMON,
    ),
]
