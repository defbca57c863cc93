"""CycleISP (Zamir et al., CVPR 2020): RAW and sRGB denoisers, RGB→RAW, RAW→RGB and its colour branch.

Written from the paper, the reference NETWORKS.md §2 and the layer order of swz30/CycleISP
(networks/denoising_raw.py, denoising_rgb.py, cycleisp.py).

All five networks share one building block: a *recursive residual group* (RRG) of *dual attention
blocks* (DAB). A DAB runs conv–act–conv, then a spatial-attention and a channel-attention branch in
parallel, fuses them with a 1x1 conv and adds its input. The channel attention pools over the whole
image, so no network here is exactly tile-safe (every output pixel depends, weakly, on every input
pixel).

Upstream builds ONE `nn.PReLU(n_feats)` per network and puts that same object everywhere an
activation is needed (inside every DAB, after the body, in the Raw2Rgb tail). The state_dict
therefore lists one tensor under many keys; we reuse one instance the same way so the official
checkpoints load strictly.

Conventions of the infer functions (the app's, see models/spec.py):
- RAW input: HxW float32 mosaic in [0,1] (black-subtracted, white-normalised), `cfa` a 2x2 Bayer
  pattern read row-major. The networks were trained on RGGB packed as R, G(0,1), G(1,0), B; other
  phases are turned into RGGB by flipping left-right and/or up-down (as upstream's DND script does)
  and flipped back afterwards. Odd sizes are reflect-padded by one row/column (which keeps the CFA
  phase) and cropped back.
- RGB input: HxWx3 float32 sRGB in [0,1].
- Outputs are float32 on the input's pixel grid, clipped to [0,1] as upstream clamps before saving.
  Two of them are mosaics, not RGB images: `infer_denoise_raw` returns the denoised HxW mosaic in
  the input's CFA phase, `infer_rgb2raw` returns an HxW RGGB mosaic.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from itertools import pairwise
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from isp_viewer.core.errors import ModelError
from isp_viewer.models.nets._bayer import flip, pack_rggb, pad_to_even, rggb_flips, unpack_rggb
from isp_viewer.models.spec import Companion, InputConvention, InputKind, ModelSpec, Task, WeightFile

CCM_BLUR_SIZE = 21      # CCM's fixed Gaussian: 21x21, sigma 12, reflect padding 10
CCM_BLUR_SIGMA = 12.0
PREBLUR_SIZE = 5        # upstream's data generator smooths the clean RGB (5x5, sigma 1) before Rgb2Raw/CCM
PREBLUR_SIGMA = 1.0


# ----------------------------------------------------------------------------------------------
# Building blocks
# ----------------------------------------------------------------------------------------------

def _conv(in_ch: int, out_ch: int, kernel_size: int = 3) -> nn.Conv2d:
    """'Same' convolution with bias, the only kind of conv the trunk uses."""
    return nn.Conv2d(in_ch, out_ch, kernel_size, padding=kernel_size // 2, bias=True)


def gaussian_kernel(size: int, sigma: float) -> torch.Tensor:
    """Normalised 2-D Gaussian (size x size, float32), centred on the middle tap."""
    offsets = torch.arange(size, dtype=torch.float64) - (size - 1) / 2.0
    one_d = torch.exp(-offsets**2 / (2.0 * sigma**2))
    kernel = torch.outer(one_d, one_d)
    return (kernel / kernel.sum()).float()


class SpatialAttention(nn.Module):
    """Scales every pixel by sigmoid(conv3x3([max over channels, mean over channels]))."""

    def __init__(self) -> None:
        super().__init__()
        # Named `spatial.conv` to match the checkpoint; bias-free as upstream.
        self.spatial = nn.Sequential(OrderedDict(conv=nn.Conv2d(2, 1, 3, padding=1, bias=False)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.spatial(pooled))


class ChannelAttention(nn.Module):
    """Squeeze-and-excitation: scales each channel by a gate computed from its image-wide mean."""

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        self.conv_du = nn.Sequential(
            nn.Conv2d(channels, channels // reduction, 1),
            nn.ReLU(),
            nn.Conv2d(channels // reduction, channels, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.conv_du(x.mean(dim=(2, 3), keepdim=True))


class DualAttentionBlock(nn.Module):
    """DAB: conv–act–conv, spatial and channel attention side by side, 1x1 fusion, residual."""

    def __init__(self, n_feats: int, reduction: int, act: nn.Module) -> None:
        super().__init__()
        # Registration order fixes the state_dict order: SA, CA, body, conv1x1.
        self.SA = SpatialAttention()
        self.CA = ChannelAttention(n_feats, reduction)
        self.body = nn.Sequential(_conv(n_feats, n_feats), act, _conv(n_feats, n_feats))
        self.conv1x1 = nn.Conv2d(2 * n_feats, n_feats, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.body(x)
        fused = self.conv1x1(torch.cat([self.SA(features), self.CA(features)], dim=1))
        return fused + x


class RecursiveResidualGroup(nn.Module):
    """RRG: `num_dab` DABs and a closing conv, with a skip over the whole group."""

    def __init__(self, n_feats: int, reduction: int, act: nn.Module, num_dab: int) -> None:
        super().__init__()
        blocks: list[nn.Module] = [DualAttentionBlock(n_feats, reduction, act) for _ in range(num_dab)]
        blocks.append(_conv(n_feats, n_feats))
        self.body = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + x


def _trunk(n_feats: int, reduction: int, act: nn.Module, num_rrg: int, num_dab: int) -> nn.Sequential:
    """The body every CycleISP net shares: RRGs, a conv, then the (shared) activation."""
    groups: list[nn.Module] = [
        RecursiveResidualGroup(n_feats, reduction, act, num_dab) for _ in range(num_rrg)
    ]
    return nn.Sequential(*groups, _conv(n_feats, n_feats), act)


# ----------------------------------------------------------------------------------------------
# The five networks
# ----------------------------------------------------------------------------------------------

class _Denoiser(nn.Module):
    """DenoiseNet trunk (4 RRGs x 8 DABs, 64 features): head conv, body, tail conv; predicts a residual."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        n_feats = 64
        act = nn.PReLU(n_feats)  # one instance reused everywhere, as upstream (tied state_dict keys)
        self.head = nn.Sequential(_conv(in_ch, n_feats))
        self.body = _trunk(n_feats, reduction=16, act=act, num_rrg=4, num_dab=8)
        self.tail = nn.Sequential(_conv(n_feats, out_ch))

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        return self.tail(self.body(self.head(x)))


class RawDenoiser(_Denoiser):
    """RAW DenoiseNet. forward(noisy, variance): both (N, 4, h, w) packed RGGB; returns (N, 4, h, w), unclamped."""

    def __init__(self) -> None:
        super().__init__(in_ch=8, out_ch=4)

    def forward(self, noisy: torch.Tensor, variance: torch.Tensor) -> torch.Tensor:
        return noisy + self._residual(torch.cat([noisy, variance], dim=1))


class RgbDenoiser(_Denoiser):
    """sRGB DenoiseNet. forward(noisy): (N, 3, H, W) in [0,1]; returns (N, 3, H, W), unclamped."""

    def __init__(self) -> None:
        super().__init__(in_ch=3, out_ch=3)

    def forward(self, noisy: torch.Tensor) -> torch.Tensor:
        return noisy + self._residual(noisy)


def mosaic_rggb(rgb: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) → (N, 4, H/2, W/2): sample R(0,0), G(0,1), G(1,0), B(1,1) of each 2x2 cell."""
    return torch.stack(
        [rgb[:, 0, 0::2, 0::2], rgb[:, 1, 0::2, 1::2], rgb[:, 1, 1::2, 0::2], rgb[:, 2, 1::2, 1::2]],
        dim=1,
    )


class Rgb2Raw(nn.Module):
    """RGB→RAW. forward(rgb): (N, 3, H, W) sRGB, H and W even → (N, 4, H/2, W/2) packed RGGB, unclamped."""

    def __init__(self) -> None:
        super().__init__()
        n_feats = 96
        act = nn.PReLU(n_feats)
        self.head = nn.Sequential(_conv(3, n_feats))
        self.body = _trunk(n_feats, reduction=8, act=act, num_rrg=3, num_dab=5)
        self.tail = nn.Sequential(_conv(n_feats, 3))

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        # The net predicts a full-resolution 3-channel RAW; a fixed RGGB sampling makes it a mosaic.
        return mosaic_rggb(self.tail(self.body(self.head(rgb))))


class CCM(nn.Module):
    """Colour branch. forward(rgb): (N, 3, H, W) clean sRGB, H, W even and > 10 → (N, 96, H/2, W/2) in (0,1).

    The input is first blurred by a fixed 21x21 Gaussian (`blur.weight`, a frozen Parameter that the
    checkpoint carries; the loaded tensor is what counts), so only the image's colour layout is used.
    """

    def __init__(self) -> None:
        super().__init__()
        n_feats = 96
        act = nn.PReLU(n_feats)
        self.head = nn.Sequential(_conv(3, n_feats))
        self.body = _trunk(n_feats, reduction=8, act=act, num_rrg=2, num_dab=2)
        self.tail = nn.Sequential(_conv(n_feats, 96), nn.Sigmoid())
        self.blur = nn.Conv2d(3, 3, CCM_BLUR_SIZE, groups=3, bias=False)
        self.blur.weight.data.copy_(gaussian_kernel(CCM_BLUR_SIZE, CCM_BLUR_SIGMA).expand(3, 1, -1, -1))
        self.blur.weight.requires_grad_(False)

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        pad = self.blur.kernel_size[0] // 2
        x = self.blur(F.pad(rgb, (pad, pad, pad, pad), mode="reflect"))
        x = F.max_pool2d(self.head(x), kernel_size=2)
        return self.tail(self.body(x))


class Raw2Rgb(nn.Module):
    """RAW→RGB. forward(raw, ccm_feat): (N, 4, h, w) packed RGGB and (N, 96, h, w) CCM output → (N, 3, 2h, 2w)."""

    def __init__(self) -> None:
        super().__init__()
        n_feats = 96
        act = nn.PReLU(n_feats)
        self.head = nn.Sequential(_conv(4, n_feats))
        self.body = _trunk(n_feats, reduction=8, act=act, num_rrg=3, num_dab=5)
        self.tail = nn.Sequential(_conv(n_feats, n_feats), act)
        self.tail_rgb = nn.Sequential(_conv(n_feats, 3 * 4, kernel_size=1))
        # Present in the checkpoint but never used by upstream's forward; kept for strict loading.
        self.conv1x1 = nn.Sequential(_conv(2 * n_feats, n_feats, kernel_size=1))

    def forward(self, raw: torch.Tensor, ccm_feat: torch.Tensor) -> torch.Tensor:
        x = self.head(raw)
        for layer in list(cast(nn.Sequential, self.body))[:-1]:  # all but the final activation
            x = layer(x)
        x = x + x * ccm_feat  # colour attention from the reference image, with a skip
        x = self.body[-1](x)
        x = self.tail_rgb(self.tail(x))
        return F.pixel_shuffle(x, 2)


# ----------------------------------------------------------------------------------------------
# Builders
# ----------------------------------------------------------------------------------------------

def _ready(module: nn.Module) -> nn.Module:
    return module.float().eval()


def build_denoise_raw() -> nn.Module:
    return _ready(RawDenoiser())


def build_denoise_rgb() -> nn.Module:
    return _ready(RgbDenoiser())


def build_rgb2raw() -> nn.Module:
    return _ready(Rgb2Raw())


def build_ccm() -> nn.Module:
    """The colour branch that `infer_raw2rgb` needs beside Raw2Rgb (weights: ccm_joint.pth)."""
    return _ready(CCM())


def build_raw2rgb() -> nn.Module:
    return _ready(Raw2Rgb())


# ----------------------------------------------------------------------------------------------
# Mosaic helpers (numpy)
# ----------------------------------------------------------------------------------------------

def _check_mosaic(x: np.ndarray, who: str, min_size: int) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2:
        raise ModelError(f"{who} takes a Bayer RAW mosaic (HxW); got an array of shape {x.shape}")
    if min(x.shape) < min_size:
        raise ModelError(f"{who} needs a mosaic of at least {min_size}x{min_size} pixels, "
                         f"got {x.shape[1]}x{x.shape[0]}")
    return x.astype(np.float32, copy=False)


def _check_rgb(x: np.ndarray, who: str, min_size: int, what: str = "an RGB image") -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[2] != 3:
        raise ModelError(f"{who} takes {what} (HxWx3); got an array of shape {x.shape}")
    if min(x.shape[:2]) < min_size:
        raise ModelError(f"{who} needs an image of at least {min_size}x{min_size} pixels, "
                         f"got {x.shape[1]}x{x.shape[0]}")
    return x.astype(np.float32, copy=False)


def _to_tensor(array: np.ndarray, device, dtype) -> torch.Tensor:
    """CHW numpy → (1, C, H, W) tensor on device/dtype (copies read-only input, e.g. an Image's data)."""
    array = np.ascontiguousarray(array)
    if not array.flags.writeable:
        array = array.copy()
    return torch.from_numpy(array).unsqueeze(0).to(device=device, dtype=dtype)


def _hwc_to_chw(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image.transpose(2, 0, 1))


def _preblur(rgb: torch.Tensor) -> torch.Tensor:
    """Upstream's data-generator smoothing of the clean RGB (5x5 Gaussian, sigma 1, reflect borders)."""
    kernel = gaussian_kernel(PREBLUR_SIZE, PREBLUR_SIGMA).to(rgb).expand(3, 1, -1, -1)
    pad = PREBLUR_SIZE // 2
    return F.conv2d(F.pad(rgb, (pad, pad, pad, pad), mode="reflect"), kernel, groups=3)


# ----------------------------------------------------------------------------------------------
# Noise levels of the RAW denoiser
# ----------------------------------------------------------------------------------------------

# Laplacian-like filter that cancels locally linear signal; on white noise its output divided by 6
# has the noise's standard deviation (its taps' squares sum to 36).
_NOISE_FILTER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float64) / 6.0


def estimate_noise_levels(mosaic_rggb: np.ndarray, bins: int = 16) -> tuple[float, float]:
    """Estimate (shot, read) of the model variance = shot * signal + read from one RGGB mosaic.

    Each packed plane is high-passed by a 3x3 filter that removes smooth signal; the residuals are
    grouped by local brightness, each group's variance is taken robustly (MAD) and a line is fitted
    through (brightness, variance). Texture inflates the estimate a little, which errs on the side of
    more smoothing. Both values are kept positive.
    """
    from scipy.ndimage import convolve, uniform_filter

    means, residuals = [], []
    for plane in pack_rggb(mosaic_rggb).astype(np.float64):
        if min(plane.shape) < 3:
            continue
        residuals.append(convolve(plane, _NOISE_FILTER, mode="reflect")[1:-1, 1:-1].ravel())
        means.append(uniform_filter(plane, 3, mode="reflect")[1:-1, 1:-1].ravel())
    if not residuals:
        return 1e-3, 1e-5
    mean, residual = np.concatenate(means), np.concatenate(residuals)
    edges = np.unique(np.quantile(mean, np.linspace(0.0, 1.0, bins + 1)))
    xs, ys = [], []
    for lo, hi in pairwise(edges):
        sel = (mean >= lo) & (mean <= hi)
        if sel.sum() < 16:
            continue
        r = residual[sel]
        sigma = 1.4826 * np.median(np.abs(r - np.median(r)))
        xs.append(float(np.median(mean[sel])))
        ys.append(sigma**2)
    if len(xs) < 2:  # too few pixels to see a brightness dependence
        return 1e-8, max(float(np.var(residual)), 1e-8)
    slope, intercept = np.polyfit(np.asarray(xs), np.asarray(ys), 1)
    if slope < 0:  # no measurable signal dependence: read noise only
        return 1e-8, max(float(np.mean(ys)), 1e-8)
    return max(float(slope), 1e-8), max(float(intercept), 1e-8)


def _variance_planes(packed: np.ndarray, noise) -> np.ndarray:
    """Per-pixel variance of the packed R, G, G, B planes from `noise`.

    `noise` is (shot, read), or a sequence of such pairs: one pair for all planes, or three for the
    R, G, B colour planes (as a DNG NoiseProfile lists them; the two greens share the G pair).
    """
    pairs = np.asarray(noise, dtype=np.float64)
    if pairs.ndim == 1:
        pairs = pairs[None]
    if pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.shape[0] not in (1, 3):
        raise ModelError(
            "CycleISP RAW denoiser: noise must be (shot, read) or one (shot, read) pair per colour R, G, B"
        )
    if not np.all(np.isfinite(pairs)) or np.any(pairs < 0):
        raise ModelError("CycleISP RAW denoiser: noise levels must be finite and non-negative")
    per_plane = pairs[[0, 0, 0, 0]] if pairs.shape[0] == 1 else pairs[[0, 1, 1, 2]]
    shot = per_plane[:, 0, None, None]
    read = per_plane[:, 1, None, None]
    return (shot * packed + read).astype(np.float32)


# ----------------------------------------------------------------------------------------------
# Inference
# ----------------------------------------------------------------------------------------------

def infer_denoise_raw(
    net: nn.Module,
    x: np.ndarray,
    *,
    cfa: str | None = None,
    noise: Sequence[float] | Sequence[Sequence[float]] | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    **options,
) -> np.ndarray:
    """Denoise a Bayer mosaic with the RAW DenoiseNet; returns the denoised MOSAIC, not an RGB image.

    x: HxW float32 linear RAW in [0,1]; cfa: 2x2 Bayer pattern. noise: (shot, read) of
    variance = shot * signal + read in the same [0,1] units (e.g. from a DNG NoiseProfile), or
    None to estimate it from the image. Returns HxW float32 in [0,1], same CFA phase as x.
    """
    who = "CycleISP RAW denoiser"
    x = _check_mosaic(x, who, min_size=2)
    flips = rggb_flips(cfa, who)
    h, w = x.shape
    rggb = flip(pad_to_even(x), flips)
    if noise is None:
        noise = estimate_noise_levels(rggb)
    noisy = pack_rggb(rggb)
    variance = _variance_planes(noisy, noise)
    net = net.to(device=device, dtype=dtype)
    with torch.inference_mode():
        out = net(_to_tensor(noisy, device, dtype), _to_tensor(variance, device, dtype))
        out = out.clamp(0.0, 1.0)[0].float().cpu().numpy()
    mosaic = flip(unpack_rggb(out), flips)
    return np.ascontiguousarray(mosaic[:h, :w], dtype=np.float32)


def infer_denoise_rgb(
    net: nn.Module,
    x: np.ndarray,
    *,
    cfa: str | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    **options,
) -> np.ndarray:
    """Denoise an sRGB image. x: HxWx3 float32 sRGB in [0,1] → HxWx3 float32 in [0,1]."""
    x = _check_rgb(x, "CycleISP sRGB denoiser", min_size=1, what="an sRGB image")
    net = net.to(device=device, dtype=dtype)
    with torch.inference_mode():
        out = net(_to_tensor(_hwc_to_chw(x), device, dtype)).clamp(0.0, 1.0)
        out = out[0].float().cpu().numpy()
    return np.ascontiguousarray(out.transpose(1, 2, 0), dtype=np.float32)


def infer_rgb2raw(
    net: nn.Module,
    x: np.ndarray,
    *,
    cfa: str | None = None,
    preblur: bool = True,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    **options,
) -> np.ndarray:
    """Synthesize a RAW mosaic from sRGB with Rgb2Raw; returns an RGGB MOSAIC, not an RGB image.

    x: HxWx3 float32 sRGB in [0,1]. preblur: smooth the input with upstream's 5x5 Gaussian first,
    as its data generator does. Returns HxW float32 linear RAW in [0,1], RGGB phase at (0, 0); odd
    sizes are reflect-padded to even inside and cropped back.
    """
    x = _check_rgb(x, "CycleISP RGB→RAW", min_size=3)
    h, w = x.shape[:2]
    rgb = _hwc_to_chw(pad_to_even(x))
    net = net.to(device=device, dtype=dtype)
    with torch.inference_mode():
        rgb_t = _to_tensor(rgb, device, dtype)
        if preblur:
            rgb_t = _preblur(rgb_t)
        packed = net(rgb_t).clamp(0.0, 1.0)[0].float().cpu().numpy()
    return np.ascontiguousarray(unpack_rggb(packed)[:h, :w], dtype=np.float32)


RAW2RGB_MIN_SIZE = 12  # CCM's reflect padding of 10 and its 2x max-pool need even sides > 10


def infer_raw2rgb(
    raw_net: nn.Module,
    ccm_net: nn.Module,
    x: np.ndarray,
    *,
    cfa: str | None = None,
    reference_rgb: np.ndarray | None = None,
    preblur: bool = True,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    **options,
) -> np.ndarray:
    """Render a Bayer mosaic to sRGB with Raw2Rgb, colour-guided by a clean sRGB of the same scene.

    raw_net: Raw2Rgb (raw2rgb_joint.pth); ccm_net: CCM (ccm_joint.pth). x: HxW float32 linear RAW
    in [0,1] with Bayer `cfa`; reference_rgb: HxWx3 sRGB in [0,1] on the same pixel grid (the CCM
    branch reads its colours, blurred with sigma 12). There is no official way to run Raw2Rgb
    without it. preblur: smooth the reference with upstream's 5x5 Gaussian first, as its data
    generator does. Returns HxWx3 float32 sRGB in [0,1].
    """
    who = "CycleISP RAW→RGB"
    if reference_rgb is None:
        raise ModelError("CycleISP RAW→RGB needs a reference RGB image of the same scene (its colour branch)")
    x = _check_mosaic(x, who, min_size=RAW2RGB_MIN_SIZE)
    reference = _check_rgb(reference_rgb, who, min_size=RAW2RGB_MIN_SIZE, what="a reference RGB image")
    if reference.shape[:2] != x.shape:
        raise ModelError(
            f"{who}: the reference RGB image ({reference.shape[1]}x{reference.shape[0]}) must match "
            f"the mosaic ({x.shape[1]}x{x.shape[0]})"
        )
    flips = rggb_flips(cfa, who)
    h, w = x.shape
    # The reference is flipped with the mosaic so that the colour features stay aligned with it.
    packed = pack_rggb(flip(pad_to_even(x), flips))
    ref = _hwc_to_chw(flip(pad_to_even(reference), flips))
    raw_net = raw_net.to(device=device, dtype=dtype)
    ccm_net = ccm_net.to(device=device, dtype=dtype)
    with torch.inference_mode():
        ref_t = _to_tensor(ref, device, dtype)
        if preblur:
            ref_t = _preblur(ref_t)
        rgb = raw_net(_to_tensor(packed, device, dtype), ccm_net(ref_t)).clamp(0.0, 1.0)
        rgb = rgb[0].float().cpu().numpy().transpose(1, 2, 0)
    return np.ascontiguousarray(flip(rgb, flips)[:h, :w], dtype=np.float32)


def infer_raw2rgb_spec(
    net: nn.Module,
    x: np.ndarray,
    *,
    cfa: str | None = None,
    ccm_net: nn.Module | None = None,
    reference_rgb: np.ndarray | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    **options,
) -> np.ndarray:
    """`infer_raw2rgb` in the registry's one-network signature: options carry ccm_net and reference_rgb."""
    if reference_rgb is None:
        raise ModelError("CycleISP RAW→RGB needs a reference RGB image of the same scene (its colour branch)")
    if ccm_net is None:
        raise ModelError("CycleISP RAW→RGB needs its colour-branch network (CCM, weights ccm_joint.pth)")
    return infer_raw2rgb(net, ccm_net, x, cfa=cfa, reference_rgb=reference_rgb, device=device, dtype=dtype, **options)


# ----------------------------------------------------------------------------------------------
# Descriptors
# ----------------------------------------------------------------------------------------------

PAPER = (
    "S. W. Zamir, A. Arora, S. Khan, M. Hayat, F. S. Khan, M.-H. Yang, L. Shao. "
    "CycleISP: Real Image Restoration via Improved Data Synthesis. CVPR 2020. arXiv:2003.07761"
)
LICENSE = "CycleISP Academic Public License (swz30/CycleISP LICENSE.md): non-commercial use only"
TILING_NOTE = (
    "Not tile-safe: the channel attention in every block pools over the whole image, so a tile's "
    "output depends on the rest of the frame; tile_overlap is the convolutional receptive-field "
    "radius only."
)

# Receptive-field radius of the trunks, in the net's own input pixels: each DAB has 3 3x3 convs
# (two in its body, one in the spatial attention), each RRG adds a closing conv.
_DENOISER_RADIUS = 1 + 4 * (8 * 3 + 1) + 1 + 1          # 103
_ISP_RADIUS = 1 + 3 * (5 * 3 + 1) + 1 + 1               # 51 (Rgb2Raw; Raw2Rgb's 1x1 tail adds 0)

# CycleISP's RAW is the sensor's linear RAW, black-subtracted and normalised, before any white
# balance (its RAW2RGB branch learns the white balance with the rest of the ISP).
CYCLEISP_RAW = InputConvention(
    white_balance="none", black_level="subtract", colour_space="linear sensor RAW, RGGB",
    source="NETWORKS.md §2 Input conventions [code]: swz30/CycleISP linear RAW, black subtracted, "
           "/(white - black), not white-balanced",
)

SPECS: list[ModelSpec] = [
    ModelSpec(
        id="cycleisp_denoise_raw",
        fp16=True, bf16=True,  # measured: tests/models/test_precision.py
        name="CycleISP RAW denoiser",
        task=Task.DENOISE,
        input_kind=InputKind.BAYER,
        build=build_denoise_raw,
        infer=infer_denoise_raw,
        manifest="cycleisp_denoise_raw.json",
        size_multiple=2,
        min_size=2,
        tiling_safe=False,
        tile_overlap=2 * _DENOISER_RADIUS,  # packed pixels are 2 mosaic pixels
        tile_align=2,
        weights=(
            WeightFile(("dnd_raw.pth",), note="trained on CycleISP-synthesized data for DND"),
            WeightFile(("sidd_raw.pth",), note="fine-tuned for SIDD"),
        ),
        paper=PAPER,
        license=LICENSE,
        non_commercial=True,
        reported_metrics="DND RAW 49.13 dB PSNR / 0.987 SSIM (raw space) [unverified]",
        notes=(
            "Output is the denoised Bayer MOSAIC (HxW, input's CFA phase), not an RGB image. "
            "Option noise=(shot, read) sets variance = shot*x + read in [0,1] units (a DNG NoiseProfile "
            "fits; three pairs for R, G, B are accepted); by default it is estimated from the image. "
            "Non-RGGB phases are flipped to RGGB and back, as upstream's DND script does. " + TILING_NOTE
            + " Input convention: " + CYCLEISP_RAW.describe() + "."
        ),
        options={"noise": None},
        input_convention=CYCLEISP_RAW,
    ),
    ModelSpec(
        id="cycleisp_denoise_rgb",
        fp16=True, bf16=True,  # measured: tests/models/test_precision.py
        name="CycleISP sRGB denoiser",
        task=Task.DENOISE,
        input_kind=InputKind.SRGB,
        build=build_denoise_rgb,
        infer=infer_denoise_rgb,
        manifest="cycleisp_denoise_rgb.json",
        size_multiple=1,
        min_size=1,
        tiling_safe=False,
        tile_overlap=_DENOISER_RADIUS,
        tile_align=1,
        weights=(
            WeightFile(("dnd_rgb.pth",), note="for DND sRGB"),
            WeightFile(("sidd_rgb.pth",), note="for SIDD sRGB"),
        ),
        paper=PAPER,
        license=LICENSE,
        non_commercial=True,
        reported_metrics="DND sRGB 39.56 dB / 0.956 SSIM; SIDD sRGB 39.52 dB / 0.957 SSIM [unverified]",
        notes="Residual denoiser on sRGB in [0,1]; output clamped to [0,1]. " + TILING_NOTE,
    ),
    ModelSpec(
        id="cycleisp_rgb2raw",
        fp16=True, bf16=True,  # measured: tests/models/test_precision.py
        name="CycleISP RGB→RAW",
        task=Task.RGB_TO_RAW,
        input_kind=InputKind.SRGB,
        build=build_rgb2raw,
        infer=infer_rgb2raw,
        manifest="cycleisp_rgb2raw.json",
        size_multiple=2,
        min_size=3,
        tiling_safe=False,
        tile_overlap=_ISP_RADIUS + PREBLUR_SIZE // 2 + 1,  # + pre-blur radius, rounded up to even
        tile_align=2,
        weights=(
            WeightFile(("rgb2raw.pth",), note="RGB2RAW branch trained alone"),
            WeightFile(("rgb2raw_joint.pth",), note="RGB2RAW after joint fine-tuning with RAW2RGB"),
        ),
        paper=PAPER,
        license=LICENSE,
        non_commercial=True,
        notes=(
            "Output is a synthetic linear RAW MOSAIC (HxW, RGGB at (0,0), clamped to [0,1]), not an RGB "
            "image. Option preblur (default True) applies upstream's 5x5 sigma-1 Gaussian to the input "
            "first, as its data generator does; upstream also zero-pads to 512x512, which is not "
            "reproduced. " + TILING_NOTE
        ),
        options={"preblur": True},
    ),
    ModelSpec(
        id="cycleisp_raw2rgb",
        name="CycleISP RAW→RGB (needs reference RGB)",
        task=Task.RAW_TO_RGB,
        input_kind=InputKind.BAYER,
        build=build_raw2rgb,
        infer=infer_raw2rgb_spec,
        manifest="cycleisp_raw2rgb.json",
        size_multiple=2,
        min_size=RAW2RGB_MIN_SIZE,
        tiling_safe=False,
        tile_overlap=2 * _ISP_RADIUS,  # packed pixels are 2 mosaic pixels; exceeds the CCM's ~44
        tile_align=2,
        weights=(WeightFile(("raw2rgb_joint.pth",), note="RAW2RGB branch (jointly fine-tuned)"),),
        companions=(Companion("ccm_net", build_ccm, WeightFile(("ccm_joint.pth",), note="colour branch CCM")),),
        needs_reference=True,
        paper=PAPER,
        license=LICENSE,
        non_commercial=True,
        notes=(
            "Needs two networks and a clean sRGB reference of the same scene: options ccm_net "
            "(build_ccm() with ccm_joint.pth) and reference_rgb (HxWx3 on the mosaic's grid). Upstream "
            "only uses it to synthesize noisy sRGB from a clean sRGB, so it is not a camera ISP on its own. "
            "Option preblur (default True) smooths the reference as upstream's generator does. " + TILING_NOTE
            + " Input convention: " + CYCLEISP_RAW.describe() + "."
        ),
        options={"preblur": True},
        input_convention=CYCLEISP_RAW,
    ),
]
