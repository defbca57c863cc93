"""SGNet (Liu, Jia, Liu, Tian, CVPR 2020): joint demosaicking and denoising with self guidance.

Written from the paper and the authors' code laulampaul/sgnet @ c44f906 (`model/sgnet.py`, class
`NET`, built on TENet's blocks and NVIDIA's PAC layer), with the options of
`script/run_sgnet_df2k.sh` and TENet's defaults: channels 64, 6 + 6 RRDB blocks, ReLU, no norm
layers, biases, scale 1, denoise on. Upstream never released weights: the module only defines the
architecture, so that a checkpoint trained with upstream's code loads strictly.

Network contract: input (B, 5, h, w) float32 in [0, 1]: the RGGB Bayer frame packed as
[R, G(0,1), G(1,0), B] plus a constant noise-level plane sigma/255. `forward` returns
(sr_raw (B, 1, 2h, 2w), rgb (B, 3, 2h, 2w), green (B, 1, 2h, 2w)), all after a ReLU (not clamped).

Two things make the forward pass unusual, and both are reproduced exactly:
- a "density map" (high-frequency energy of the input) is computed outside autograd with
  8-bit arithmetic, Pillow's Gaussian blur and a grey dilation, then InstanceNorm-ed over the
  whole image and fed to the network as a sixth input channel;
- the demosaicking branch is upsampled by a pixel-adaptive transposed convolution (PAC, Su et al.
  CVPR 2019) whose per-pixel kernels are steered by features of the predicted green channel.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image as PILImage
from PIL import ImageFilter
from torch import nn

from isp_viewer.core.errors import ModelError
from isp_viewer.models.nets._bayer import RED_OFFSET as RED_OFFSET  # re-exported: the phase table
from isp_viewer.models.nets._bayer import pack_rggb, reflect_to_rggb, validate_mosaic
from isp_viewer.models.spec import InputConvention, InputKind, ModelSpec, Task, WeightFile

CHANNELS = 64
RRDB_COUNT = 6
RES_SCALE = 0.2  # residual scaling inside every dense block and RRDB (ESRGAN style)

# Density map: gamma, 8-bit quantisation, blur radii (upstream blurs batch element 0 with
# radius 3 and every other element with radius 5, a quirk kept so batches match upstream).
DENSITY_GAMMA = 2.2
BLUR_RADIUS_FIRST = 3
BLUR_RADIUS_OTHERS = 5

# InstanceNorm needs more than one packed pixel; 8x8 Bayer (4x4 packed) keeps every 5x5 conv sane.
MIN_INPUT_SIDE = 8


# --------------------------------------------------------------------------- building blocks


def conv_relu(in_ch: int, out_ch: int, kernel_size: int) -> nn.Sequential:
    """TENet's ConvBlock as SGNet builds it: zero-padded 'same' conv with bias, then ReLU.

    A Sequential so the conv's keys read `<name>.0.weight`, as in the checkpoint.
    """
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, kernel_size, padding=kernel_size // 2), nn.ReLU())


def upsample_x2(channels: int) -> nn.Sequential:
    """TENet's Upsampler(2): conv to 4x channels, PixelShuffle(2), ReLU."""
    return nn.Sequential(nn.Conv2d(channels, 4 * channels, 3, padding=1), nn.PixelShuffle(2), nn.ReLU())


class DenseBlock(nn.Module):
    """Residual dense block: five 3x3 conv+ReLU layers, each seeing all previous outputs.

    Growth is 64 channels (SGNet passes nc as the growth), and unlike ESRGAN the fifth conv
    is also followed by ReLU. Output: 0.2 * conv5 + x, shape preserved.
    """

    def __init__(self, channels: int = CHANNELS) -> None:
        super().__init__()
        self.conv1 = conv_relu(channels, channels, 3)
        self.conv2 = conv_relu(2 * channels, channels, 3)
        self.conv3 = conv_relu(3 * channels, channels, 3)
        self.conv4 = conv_relu(4 * channels, channels, 3)
        self.conv5 = conv_relu(5 * channels, channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            features.append(conv(torch.cat(features, 1)))
        return self.conv5(torch.cat(features, 1)) * RES_SCALE + x


class RRDB(nn.Module):
    """Residual-in-residual dense block: three dense blocks, 0.2-scaled, plus the input."""

    def __init__(self, channels: int = CHANNELS) -> None:
        super().__init__()
        self.RDB1 = DenseBlock(channels)
        self.RDB2 = DenseBlock(channels)
        self.RDB3 = DenseBlock(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.RDB3(self.RDB2(self.RDB1(x))) * RES_SCALE + x


class SFTLayer(nn.Module):
    """Spatial feature transform layer that upstream creates in every RRDB2 but never calls.

    Kept only because its weights are part of the checkpoint (strict loading).
    """

    def __init__(self) -> None:
        super().__init__()
        self.SFT_scale_conv0 = nn.Conv2d(2, 32, 1)
        self.SFT_scale_conv1 = nn.Conv2d(32, 64, 1)
        self.SFT_shift_conv0 = nn.Conv2d(2, 32, 1)
        self.SFT_shift_conv1 = nn.Conv2d(32, 64, 1)


class RRDBWithUnusedSFT(RRDB):
    """Upstream's RRDB2: an RRDB computed exactly like RRDB, carrying an unused SFT layer."""

    def __init__(self, channels: int = CHANNELS) -> None:
        super().__init__(channels)
        self.sft = SFTLayer()


class ShortcutBlock(nn.Module):
    """x + sub(x)."""

    def __init__(self, sub: nn.Module) -> None:
        super().__init__()
        self.sub = sub

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.sub(x)


class DemosaickTrunk(nn.Module):
    """Six RRDBs (with their unused SFT layers) and a final 3x3 conv+ReLU; shape preserved."""

    def __init__(self, channels: int = CHANNELS) -> None:
        super().__init__()
        for i in range(1, RRDB_COUNT + 1):
            setattr(self, f"r{i}", RRDBWithUnusedSFT(channels))
        self.final = conv_relu(channels, channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(1, RRDB_COUNT + 1):
            x = getattr(self, f"r{i}")(x)
        return self.final(x)


class GreenBranch(nn.Module):
    """Estimates the full-resolution green channel from the two packed greens.

    forward: (B, 2, h, w) -> (B, 1, 2h, 2w), non-negative (ReLU, then a LeakyReLU that upstream
    applies after it and that therefore changes nothing).
    """

    def __init__(self, channels: int = CHANNELS) -> None:
        super().__init__()
        self.head = conv_relu(2, channels, 5)
        self.r1 = RRDB(channels)
        self.r2 = RRDB(channels)
        self.final = conv_relu(channels, channels, 3)
        self.up = nn.Sequential(upsample_x2(channels), conv_relu(channels, 1, 3), nn.LeakyReLU(0.2))

    def forward(self, greens: torch.Tensor) -> torch.Tensor:
        head = self.head(greens)
        return self.up(self.final(self.r2(self.r1(head))) + head)


class PacConvTranspose2d(nn.Module):
    """Pixel-adaptive transposed convolution with a Gaussian adapting kernel, stride 2.

    Fixed to SGNet's configuration (kernel 5, stride 2, padding 2, output_padding 1), so the
    output is exactly twice the input size. Parameters as nn.ConvTranspose2d:
    weight (C_in, C_out, 5, 5), bias (C_out).

    forward(x (B, C_in, h, w), guide (B, G, 2h, 2w)) -> (B, C_out, 2h, 2w). With xz the input
    zero-inserted to (2h+4, 2w+4) (sample k at position 2 + 2k) and guide zero-padded by 2:

        out[o, m, n] = bias[o] + sum_{c,i,j} weight[c, o, i, j] * xz[c, m+i, n+j]
                       * exp(-0.5 * |guide[:, m+i-2, n+j-2] - guide[:, m, n]|^2)

    This is PACNet's pure-PyTorch ("native") path; note that the weight is *not* flipped, as
    it would be in nn.ConvTranspose2d. Instead of unfolding 25 copies of the upsampled features
    as PACNet does, each output phase (m, n mod 2) is computed at the input resolution from the
    taps that hit non-zero samples of xz (9, 6, 6 or 4 of the 25): same sum, a quarter of the
    work, memory of a few feature maps.
    """

    KERNEL = 5
    RADIUS = 2

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_ch, out_ch, self.KERNEL, self.KERNEL))
        self.bias = nn.Parameter(torch.empty(out_ch))
        bound = 1.0 / math.sqrt(in_ch * self.KERNEL * self.KERNEL)
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        r = self.RADIUS
        x_padded = F.pad(x, (1, 1, 1, 1))
        guide_padded = F.pad(guide, (r, r, r, r))
        out = x.new_empty(b, self.bias.shape[0], 2 * h, 2 * w)
        for pm in (0, 1):
            for pn in (0, 1):
                centre = guide[:, :, pm::2, pn::2]
                acc = self.bias.view(1, -1, 1, 1).expand(b, -1, h, w)
                # Tap (i, j) of output pixel (2a+pm, 2b+pn) reads xz at (2a+pm+i, 2b+pn+j), which is
                # input sample (a+di, b+dj) when pm+i and pn+j are even, and zero otherwise.
                for i in range(pm, self.KERNEL, 2):
                    for j in range(pn, self.KERNEL, 2):
                        di, dj = (pm + i - r) // 2, (pn + j - r) // 2
                        neighbour = guide_padded[:, :, i + pm::2, j + pn::2][:, :, :h, :w]
                        diff = neighbour - centre
                        affinity = torch.exp(-0.5 * (diff * diff).sum(1, keepdim=True))
                        taps = x_padded[:, :, 1 + di:1 + di + h, 1 + dj:1 + dj + w] * affinity
                        acc = acc + F.conv2d(taps, self.weight[:, :, i, j].t()[:, :, None, None])
                out[:, :, pm::2, pn::2] = acc
        return out


# --------------------------------------------------------------------------- density map


def density_before_norm(packed: torch.Tensor) -> torch.Tensor:
    """Upstream's `density()`: local high-frequency energy of the packed frame, 0..255 integers.

    packed: (B, >=4, h, w) with RGGB in channels 0..3, values in [0, 1] (negatives count as 0).
    Returns (B, 1, h, w) float32 on the CPU. Per image: luminance (R + (G1+G2)/2 + B)/3, gamma
    1/2.2, x255, clamp to [0, 255], truncation to uint8 (float32 arithmetic, as upstream, so
    that no pixel flips at a rounding boundary); then |image - Pillow GaussianBlur(image)|
    in 8 bits, and a 3x3 grey dilation whose window ignores pixels outside the image
    (OpenCV's default border for dilate). Not differentiable; computed on the CPU.
    """
    x = packed[:, :4].detach().to(device="cpu", dtype=torch.float32)
    luma = (x[:, 0] + (x[:, 1] + x[:, 2]) / 2 + x[:, 3]) / 3
    encoded = torch.clamp(luma.clamp_min(0.0) ** (1 / DENSITY_GAMMA) * 255, 0.0, 255.0)
    eight_bit = encoded.to(torch.uint8).numpy()
    maps = []
    for index, image in enumerate(eight_bit):
        radius = BLUR_RADIUS_FIRST if index == 0 else BLUR_RADIUS_OTHERS
        blurred = np.asarray(PILImage.fromarray(image).filter(ImageFilter.GaussianBlur(radius=radius)))
        maps.append(np.abs(image.astype(np.int16) - blurred.astype(np.int16)).astype(np.float32))
    detail = torch.from_numpy(np.stack(maps))[:, None]
    # max_pool2d pads with -inf, so border windows only see pixels inside the image.
    return F.max_pool2d(detail, kernel_size=3, stride=1, padding=1)


# --------------------------------------------------------------------------- the network


class SGNet(nn.Module):
    """SGNet as defined by upstream's `NET` with scale 1, denoise on, RRDB blocks.

    Submodules in checkpoint order: `model_sr` (6-channel head, 6 RRDBs + conv in a shortcut,
    a conv to 4 channels: the denoised packed frame), `model_dm1` (head of the demosaicking
    branch), `model_dm2` (its trunk), `model_dm3` (an x2 upsampler that forward never uses),
    `green` (green estimate), `combine` (unused), `greenup` (guide features from the green
    estimate), `pac` (guided x2 upsampling), `final` (to RGB), `norm` (InstanceNorm of the
    density map, no parameters).

    forward: (B, 5, h, w) -> (sr_raw (B,1,2h,2w), rgb (B,3,2h,2w), green (B,1,2h,2w)).
    """

    def __init__(self) -> None:
        super().__init__()
        c = CHANNELS
        self.model_sr = nn.Sequential(
            conv_relu(6, c, 5),
            ShortcutBlock(nn.Sequential(*[RRDB(c) for _ in range(RRDB_COUNT)], conv_relu(c, c, 3))),
            nn.Identity(),  # TENet's Upsampler(scale=1): empty; keeps the next index at 3
            conv_relu(c, 4, 3),
        )
        self.model_dm1 = nn.Sequential(conv_relu(4, c, 5))
        self.model_dm2 = DemosaickTrunk(c)
        self.model_dm3 = nn.Sequential(upsample_x2(c))  # unused by forward; in the checkpoint
        self.green = GreenBranch(c)
        self.combine = nn.Sequential(conv_relu(c + 1, c, 1), nn.LeakyReLU(0.2))  # unused likewise
        self.greenup = nn.Sequential(conv_relu(1, 4, 1), nn.LeakyReLU(0.2), conv_relu(4, 8, 1), nn.LeakyReLU(0.2))
        self.pac = PacConvTranspose2d(c, c)
        self.final = conv_relu(c, 3, 3)
        self.norm = nn.InstanceNorm2d(1)

    def density_map(self, x: torch.Tensor) -> torch.Tensor:
        """The sixth input channel: InstanceNorm-ed density map, (B, 1, h, w) on x's device/dtype.

        The normalisation uses statistics of the whole image, so a crop's map is not the crop
        of the full frame's map.
        """
        return self.norm(density_before_norm(x)).to(device=x.device, dtype=x.dtype)

    def forward_with_density(self, x: torch.Tensor, density: torch.Tensor):
        """forward with a given (B, 1, h, w) density map instead of the one computed from x."""
        packed = self.model_sr(torch.cat([x, density], 1))
        sr_raw = F.pixel_shuffle(packed, 2)
        green = self.green(packed[:, 1:3])
        features = self.model_dm1(packed)
        features = features + self.model_dm2(features)
        rgb = self.final(self.pac(features, self.greenup(green)))
        return sr_raw, rgb, green

    def forward(self, x: torch.Tensor):
        return self.forward_with_density(x, self.density_map(x))


def build_sgnet() -> SGNet:
    """SGNet with the layout of upstream's DF2K configuration, float32, eval mode (untrained)."""
    return SGNet().float().eval()


# --------------------------------------------------------------------------- pre/post-processing


def _validate_mosaic(x: np.ndarray, cfa: str | None) -> str:
    return validate_mosaic(x, cfa, "SGNet", MIN_INPUT_SIDE)


def pad_to_even_rggb(x: np.ndarray, cfa: str) -> tuple[np.ndarray, tuple[int, int]]:
    """Reflect-pad an HxW `cfa` mosaic into an RGGB-phased frame with even sides (`_bayer.reflect_to_rggb`).
    Returns the float32 frame and the (top, left) origin of the input inside it."""
    return reflect_to_rggb(x, cfa, multiple=2)


def sgnet_input(
    x: np.ndarray, cfa: str, sigma: float, gamma: float | None = None
) -> tuple[np.ndarray, tuple[int, int]]:
    """The (5, h, w) float32 network input for a validated mosaic, and the input's (top, left)
    origin on the network's (2h, 2w) output grid."""
    mosaic = np.clip(np.asarray(x, dtype=np.float32), 0.0, 1.0)  # upstream clamps its inputs
    if gamma is not None:
        mosaic = mosaic ** np.float32(1.0 / gamma)
    rggb, origin = pad_to_even_rggb(mosaic, cfa)
    packed = pack_rggb(rggb)
    noise_plane = np.full((1, *packed.shape[1:]), sigma / 255.0, dtype=np.float32)
    return np.concatenate([packed, noise_plane]), origin


def infer_sgnet(
    net: nn.Module,
    x: np.ndarray,
    *,
    cfa: str | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    sigma: float = 0.0,
    gamma: float | None = None,
) -> np.ndarray:
    """Denoise and demosaick an HxW Bayer mosaic with SGNet.

    x: HxW float32 in [0, 1] (clipped there, as upstream clamps its inputs), black-subtracted
    and white-normalised; cfa: "RGGB", "BGGR", "GRBG" or "GBRG" (brought to RGGB by a one-pixel
    reflection, then put back). sigma: the noise standard deviation of the network's input in
    8-bit units (0..255; the network sees sigma/255 as its noise-level plane). gamma: if set, the
    mosaic is encoded as x**(1/gamma) before the network, for weights trained the upstream DF2K
    way on gamma-encoded sRGB mosaics; the output is then in that encoded (display) domain.
    Returns HxWx3 float32 RGB in [0, 1] on the input's grid (the rgb output, clipped).
    """
    pattern = _validate_mosaic(x, cfa)
    if not math.isfinite(sigma) or sigma < 0:
        raise ModelError(f"SGNet's noise level sigma must be a number >= 0 (8-bit units), got {sigma}")
    if gamma is not None and not (math.isfinite(gamma) and gamma > 0):
        raise ModelError(f"SGNet's input gamma must be a positive number, got {gamma}")
    h, w = np.asarray(x).shape
    net_input, (top, left) = sgnet_input(x, pattern, float(sigma), gamma)
    net.to(device=device, dtype=dtype).eval()
    with torch.inference_mode():
        batch = torch.from_numpy(net_input)[None].to(device=device, dtype=dtype)
        _, rgb, _ = net(batch)
        rgb = rgb[0, :, top:top + h, left:left + w].float().clamp(0.0, 1.0)
        out = rgb.permute(1, 2, 0).cpu().numpy()
    return np.ascontiguousarray(out, dtype=np.float32)


# --------------------------------------------------------------------------- descriptor

# TENet-style training mosaics are sampled from white-balanced sRGB photos (DF2K): a camera RAW is
# given white-balanced and black-subtracted, linear unless the gamma option encodes it.
TENET_MOSAIC = InputConvention(
    white_balance="camera", black_level="subtract", colour_space="camera RGB, linear (option gamma encodes it)",
    source="NETWORKS.md §3 Input [code, inferred]: TENet's test reads an 8-bit RGGB mosaic of an sRGB image, /255",
)

SPECS: list[ModelSpec] = [
    ModelSpec(
        id="sgnet",
        fp16=True, bf16=False,  # measured: tests/models/test_precision.py
        name="SGNet",
        task=Task.JOINT_DENOISE_DEMOSAICK,
        input_kind=InputKind.BAYER,
        build=build_sgnet,
        infer=infer_sgnet,
        manifest="sgnet.json",
        output_scale=1,
        size_multiple=2,
        min_size=MIN_INPUT_SIDE,
        # The density map is InstanceNorm-ed over the whole input: a tile normalises with its
        # own statistics (measured with crc32 weights: 0.05-0.5 off the full frame whatever the
        # overlap). With the full frame's map, 24 Bayer px of context already agree within 1e-3
        # (12 px: 0.2); 64 leaves room for trained weights. Theoretical receptive field: about
        # +-190 packed (+-380 Bayer) px.
        tiling_safe=False,
        tile_overlap=64,
        tile_align=2,
        weights=(WeightFile(("sgnet.pth", "sgnet.safetensors"),
                            note="suggested names only: no public weights — load your own (upstream's "
                                 "NET with the DF2K script's options; TENet-style checkpoints "
                                 "{'state_dict', 'best_psnr', 'iter'} are unwrapped)"),),
        paper="L. Liu, X. Jia, J. Liu, Q. Tian, \"Joint Demosaicing and Denoising with Self "
              "Guidance\", CVPR 2020",
        license="not stated (laulampaul/sgnet has no licence file); its bundled PAC layer "
                "(model/pac.py) carries NVIDIA's CC BY-NC-SA 4.0 header",
        non_commercial=True,  # conservative: the PAC layer it needs is CC BY-NC-SA 4.0
        reported_metrics="not established here: see the paper's tables (MIT moiré, Urban100, Kodak, "
                         "McMaster, PixelShift200); no public weights to reproduce them (unverified)",
        notes="Upstream released no checkpoint (its README lists the DF2K model as TODO): "
              "no public weights — load your own. "
              "Input: RGGB packed as [R, G, G, B] plus a noise-level plane sigma/255 (option sigma, "
              "8-bit units); upstream's DF2K recipe trains on gamma-encoded sRGB mosaics (option "
              "gamma). A density map (Pillow blur, 8-bit maths) is InstanceNorm-ed over the whole "
              "frame, so tiles never reproduce the full-frame result exactly: not tile-safe. "
              "Input convention: " + TENET_MOSAIC.describe() + ".",
        options={"sigma": 0.0},
        input_convention=TENET_MOSAIC,
    ),
]
