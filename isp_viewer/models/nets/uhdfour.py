"""UHDFour: low-light enhancement with Fourier-domain blocks (Li et al., ICLR 2023).

"Embedding Fourier for Ultra-High-Definition Low-Light Image Enhancement", written from the paper
and from reading Li-Chongyi/UHDFour_code @ 2349d6f (src/EnhanceN_arch.py and
src/EnhanceN_arch_LOL.py, both classes named `InteractNet`).

The network has two branches:
- a low-resolution branch (`lownet`): the input is embedded by a 1x1 conv, downscaled by the
  variant's `scale` (8 for UHD, 2 for LOL) and run through a three-level U-Net of
  Fourier/spatial blocks. It predicts a small RGB image and an amplitude and a phase map of its
  final features' 2-D spectrum;
- a full-resolution branch (`highnet`): the input is pixel-unshuffled by `scale` so that it sits
  on the same grid as the low branch, refined by one Fourier/spatial block whose spectrum is
  steered by the low branch's amplitude and phase, shuffled back, fused with the upsampled small
  RGB image and mapped to the output by a few convolutions.

The two published architectures differ only in the numbers gathered in `UHDFourVariant`; every
building block is shared. Both state_dicts hold convolutions the forward pass never calls
(`frequency_spatial`/`spatial_frequency` everywhere, and in the UHD variant also
`highnet.conv3/conv4/con_temp1/con_temp2`): they are declared so the released checkpoints load
strictly, and stay unused exactly as upstream.

Image convention at the `infer_uhdfour` boundary: HxWx3 float32 sRGB (display-referred) in [0, 1],
no mean/std normalisation; output HxWx3 float32 sRGB clipped to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from isp_viewer.core.errors import ModelError
from isp_viewer.models.spec import InputKind, ModelSpec, Task, WeightFile

LEAKY_SLOPE = 0.1
BASE_WIDTH = 16          # upstream InteractNet(nc=16)
EMBED_WIDTH = BASE_WIDTH // 2
LOW_WIDTH = BASE_WIDTH * 12


@dataclass(frozen=True)
class UHDFourVariant:
    """The numbers that tell the two published architectures apart."""

    id: str
    scale: int               # resolution ratio between the full-res and the low-res branch
    head_width: int          # channels of the output head (highnet.trans / con_temp*)
    deep_highnet: bool       # LOL also runs highnet.conv3/conv4 and con_temp1/con_temp2

    @property
    def full_res_channels(self) -> int:
        """Channels of the pixel-unshuffled RGB input, which the low branch's guide maps match."""
        return 3 * self.scale * self.scale

    @property
    def min_size(self) -> int:
        # The low branch halves its input twice more; its coarsest level needs at least 2x2
        # pixels (InstanceNorm needs more than one value, the stride-2 convs two rows).
        return 2 * 4 * self.scale


UHD = UHDFourVariant(id="uhdfour_uhd", scale=8, head_width=16, deep_highnet=False)
LOL = UHDFourVariant(id="uhdfour_lol", scale=2, head_width=32, deep_highnet=True)

# Both variants are fed sides that are multiples of 8, as upstream's test loader does; the UHD
# variant needs it (PixelUnshuffle(8)), the LOL one only needs even sides but then its two
# stride-2 downsamplings of the half-resolution branch divide exactly as in training.
SIZE_MULTIPLE = 8


# --- building blocks -------------------------------------------------------------------------


def _conv(c_in: int, c_out: int, kernel: int = 1, stride: int = 1) -> nn.Conv2d:
    """A convolution that keeps the size (odd kernel, zero padding) or tiles it (stride = kernel)."""
    padding = kernel // 2 if stride == 1 else 0
    return nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding)


def _pointwise_mlp(channels: int) -> nn.Sequential:
    """1x1 conv → LeakyReLU(0.1) → 1x1 conv, applied to an amplitude or a phase map."""
    return nn.Sequential(_conv(channels, channels), nn.LeakyReLU(LEAKY_SLOPE, inplace=True),
                         _conv(channels, channels))


class HalfInstanceConvBlock(nn.Module):
    """Two 3x3 convs with LeakyReLU, InstanceNorm on the first half of the channels, 1x1 skip.

    (N, c_in, H, W) -> (N, c_out, H, W); c_out must be even ("HIN" block of upstream's UNetConvBlock).
    """

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.identity = _conv(c_in, c_out)
        self.conv_1 = _conv(c_in, c_out, 3)
        self.conv_2 = _conv(c_out, c_out, 3)
        self.norm = nn.InstanceNorm2d(c_out // 2, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv_1(x)
        normalised, kept = y.chunk(2, dim=1)
        y = F.leaky_relu(torch.cat([self.norm(normalised), kept], 1), LEAKY_SLOPE)
        y = F.leaky_relu(self.conv_2(y), LEAKY_SLOPE)
        return y + self.identity(x)


class AffineCoupling(nn.Module):
    """An invertible-flow style coupling, used only forward (upstream InvBlock).

    The channels split into a (C//2) and b (the rest):
    a' = a + F(b);  b' = b * exp(0.8 * (2 sigmoid(H(a')) - 1)) + G(a').  Shape preserved.
    """

    LOG_SCALE_LIMIT = 0.8

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.split = channels // 2
        rest = channels - self.split
        self.F = HalfInstanceConvBlock(rest, self.split)
        self.G = HalfInstanceConvBlock(self.split, rest)
        self.H = HalfInstanceConvBlock(self.split, rest)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x[:, :self.split], x[:, self.split:]
        a = a + self.F(b)
        log_scale = self.LOG_SCALE_LIMIT * (torch.sigmoid(self.H(a)) * 2 - 1)
        b = b * torch.exp(log_scale) + self.G(a)
        return torch.cat([a, b], 1)


class SpatialBranch(nn.Module):
    """Residual coupling block: x + coupling(x) (upstream SpaBlock)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.block = AffineCoupling(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class SpatialFeatureTransform(nn.Module):
    """Modulates x by a condition map: fuse(x, mul(cond) * x + add(cond)), all shapes (N, C, h, w)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.convmul = _conv(channels, channels, 3)
        self.convadd = _conv(channels, channels, 3)
        self.convfuse = _conv(2 * channels, channels)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        modulated = self.convmul(condition) * x + self.convadd(condition)
        return self.convfuse(torch.cat([x, modulated], 1))


class FourierBranch(nn.Module):
    """Processes a complex spectrum as amplitude and phase maps (upstream FreBlock / FreBlockAdjust).

    Amplitude and phase each go through a 1x1 MLP. When `guided`, the amplitude is then modulated
    by the guide amplitude (SFT) and the phase is fused with the guide phase (1x1 conv).
    (N, C, H, W//2+1) complex -> same shape complex.
    """

    def __init__(self, channels: int, guided: bool = False) -> None:
        super().__init__()
        self.guided = guided
        self.processmag = _pointwise_mlp(channels)
        self.processpha = _pointwise_mlp(channels)
        if guided:
            self.sft = SpatialFeatureTransform(channels)
            self.cat = _conv(2 * channels, channels)

    def forward(self, spectrum: torch.Tensor, guide_amp: torch.Tensor | None = None,
                guide_phase: torch.Tensor | None = None) -> torch.Tensor:
        amp = self.processmag(spectrum.abs())
        phase = self.processpha(torch.angle(spectrum))
        if self.guided:
            assert guide_phase is not None, "a guided block needs the guide's phase"
            amp = self.sft(amp, guide_amp)
            phase = self.cat(torch.cat([guide_phase, phase], 1))
        # Not torch.polar: the processed amplitude may be negative.
        return torch.complex(amp * torch.cos(phase), amp * torch.sin(phase))


class FourierSpatialBlock(nn.Module):
    """Spatial coupling branch and Fourier branch side by side, fused by a 1x1 conv, plus a skip.

    (N, C, H, W) -> (N, C, H, W). With `guided`, forward also takes the guide amplitude and phase,
    each (N, C, H, W//2+1) (upstream ProcessBlockAdjust; unguided is ProcessBlock). The FFT spans
    the whole feature map, so every output pixel depends on every input pixel.
    """

    def __init__(self, channels: int, guided: bool = False) -> None:
        super().__init__()
        self.spatial_process = SpatialBranch(channels)
        self.frequency_process = FourierBranch(channels, guided)
        # Declared upstream but never called in forward; kept so checkpoints load strictly.
        self.frequency_spatial = _conv(channels, channels, 3)
        self.spatial_frequency = _conv(channels, channels, 3)
        self.cat = _conv(2 * channels, channels)

    def forward(self, x: torch.Tensor, guide_amp: torch.Tensor | None = None,
                guide_phase: torch.Tensor | None = None) -> torch.Tensor:
        height, width = x.shape[-2:]
        spectrum = torch.fft.rfft2(x, norm="backward")
        spectral = torch.fft.irfft2(self.frequency_process(spectrum, guide_amp, guide_phase),
                                    s=(height, width), norm="backward")
        spatial = self.spatial_process(x)
        return self.cat(torch.cat([spatial, spectral], 1)) + x


def _resize_like(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)


class LowResBranch(nn.Module):
    """Three-level U-Net of Fourier/spatial blocks on the downscaled embedding (upstream LowNet).

    (N, c_in, h, w) -> (rgb (N, 3, h, w), guide_amp, guide_phase), the guides being 1x1-conv'd
    amplitude and phase of the final features' rfft2, each (N, c_out, h, w//2+1).
    """

    def __init__(self, c_in: int, width: int, c_out: int) -> None:
        super().__init__()
        self.conv0 = _conv(c_in, width)
        self.conv1 = FourierSpatialBlock(width)
        self.downsample1 = _conv(width, 2 * width, 2, stride=2)
        self.conv2 = FourierSpatialBlock(2 * width)
        self.downsample2 = _conv(2 * width, 3 * width, 2, stride=2)
        self.conv3 = FourierSpatialBlock(3 * width)
        # 1x1 transposed convs (upstream's choice; the checkpoint stores their [in, out] layout).
        self.up1 = nn.ConvTranspose2d(5 * width, 2 * width, 1)
        self.conv4 = FourierSpatialBlock(2 * width)
        self.up2 = nn.ConvTranspose2d(3 * width, width, 1)
        self.conv5 = FourierSpatialBlock(width)
        self.convout = _conv(width, c_out)
        self.convoutfinal = _conv(c_out, 3)
        self.transamp = _conv(c_out, c_out)
        self.transpha = _conv(c_out, c_out)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        level0 = self.conv1(self.conv0(x))
        level1 = self.conv2(self.downsample1(level0))
        level2 = self.conv3(self.downsample2(level1))
        level1 = self.conv4(self.up1(torch.cat([_resize_like(level2, level1), level1], 1)))
        level0 = self.conv5(self.up2(torch.cat([_resize_like(level1, level0), level0], 1)))
        features = self.convout(level0)
        spectrum = torch.fft.rfft2(features, norm="backward")
        guide_amp = self.transamp(spectrum.abs())
        guide_phase = self.transpha(torch.angle(spectrum))
        return self.convoutfinal(features), guide_amp, guide_phase


class FullResBranch(nn.Module):
    """Guided refinement of the pixel-unshuffled input and the output head (upstream HighNet).

    x (N, 3, H, W) with H, W multiples of `scale`; low_rgb (N, 3, H/scale, W/scale); guides
    (N, 3*scale², H/scale, W/(2*scale)+1). Returns (N, 3, H, W), not clamped.
    """

    def __init__(self, variant: UHDFourVariant) -> None:
        super().__init__()
        self.scale = variant.scale
        self.deep = variant.deep_highnet
        channels, head = variant.full_res_channels, variant.head_width
        self.conv1 = FourierSpatialBlock(channels, guided=True)
        self.conv3 = FourierSpatialBlock(channels)      # unused by the UHD variant
        self.conv4 = FourierSpatialBlock(channels)      # unused by the UHD variant
        self.convout = _conv(3, 3, 3)
        self.trans = _conv(6, head)
        self.con_temp1 = _conv(head, head, 3)           # unused by the UHD variant
        self.con_temp2 = _conv(head, head, 3)           # unused by the UHD variant
        self.con_temp3 = _conv(head, 3, 3)

    def forward(self, x: torch.Tensor, low_rgb: torch.Tensor, guide_amp: torch.Tensor,
                guide_phase: torch.Tensor) -> torch.Tensor:
        features = self.conv1(F.pixel_unshuffle(x, self.scale), guide_amp, guide_phase)
        if self.deep:
            features = self.conv4(self.conv3(features))
        coarse = self.convout(F.pixel_shuffle(features, self.scale))
        low_up = F.interpolate(low_rgb, scale_factor=self.scale, mode="bilinear", align_corners=False)
        y = self.trans(torch.cat([low_up, coarse], 1))
        if self.deep:
            y = self.con_temp2(self.con_temp1(y))       # no activation in between, as upstream
        return self.con_temp3(y)


class UHDFourNet(nn.Module):
    """UHDFour (upstream InteractNet, nc=16) in one of its two variants.

    forward(x): x (N, 3, H, W) float sRGB in [0, 1], H and W multiples of the variant's scale (8
    for UHD, 2 for LOL) and large enough (see `UHDFourVariant.min_size`). Returns
    (enhanced (N, 3, H, W), low_res (N, 3, H/scale, W/scale)), neither clamped.
    """

    def __init__(self, variant: UHDFourVariant) -> None:
        super().__init__()
        self.variant = variant
        self.extract = _conv(3, EMBED_WIDTH)
        self.lownet = LowResBranch(EMBED_WIDTH, LOW_WIDTH, variant.full_res_channels)
        self.highnet = FullResBranch(variant)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        embedded = self.extract(x)
        # scale_factor (not size) as upstream: the same sampling positions for any input size.
        small = F.interpolate(embedded, scale_factor=1 / self.variant.scale, mode="bilinear",
                              align_corners=False)
        low_rgb, guide_amp, guide_phase = self.lownet(small)
        return self.highnet(x, low_rgb, guide_amp, guide_phase), low_rgb


def _build(variant: UHDFourVariant) -> UHDFourNet:
    return UHDFourNet(variant).float().eval()


def build_uhdfour_uhd() -> UHDFourNet:
    """UHD variant (src/EnhanceN_arch.py) for UHD_checkpoint.pt; upstream's choice for any photo."""
    return _build(UHD)


def build_uhdfour_lol() -> UHDFourNet:
    """LOL variant (src/EnhanceN_arch_LOL.py) for LOLv1_checkpoint.pt / LOLv2_checkpoint.pt."""
    return _build(LOL)


# --- inference -------------------------------------------------------------------------------


def _check_rgb_input(x: np.ndarray, cfa: str | None, variant: UHDFourVariant) -> np.ndarray:
    if cfa is not None or np.ndim(x) == 2:
        raise ModelError("UHDFour enhances sRGB images, not RAW mosaics: demosaic the image first")
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[2] != 3:
        raise ModelError(f"UHDFour needs an HxWx3 RGB image, got an array of shape {x.shape}")
    height, width = x.shape[:2]
    if min(height, width) < variant.min_size:
        raise ModelError(f"{variant.id} needs images of at least {variant.min_size}x{variant.min_size} "
                         f"pixels, got {width}x{height}")
    return x.astype(np.float32, copy=False)


def _pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Reflect-pad an (N, C, H, W) tensor at the bottom and right to sides that are multiples."""
    pad_h = -x.shape[-2] % multiple
    pad_w = -x.shape[-1] % multiple
    if pad_h == 0 and pad_w == 0:
        return x
    return F.pad(x, (0, pad_w, 0, pad_h), mode="reflect")


def infer_uhdfour(net: UHDFourNet, x: np.ndarray, *, cfa: str | None = None,
                  device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
                  **options) -> np.ndarray:
    """Enhance a low-light sRGB image with either UHDFour variant; the net is moved to device/dtype.

    x: HxWx3 float32 sRGB in [0, 1], as upstream feeds it (ToTensor, no normalisation).
    Returns HxWx3 float32 in [0, 1] on the input's grid (clipped, as upstream's save_image does).

    Upstream's test loader crops each image top-left to sides that are multiples of 8 and so
    drops up to 7 rows and columns. We keep every pixel instead: the image is reflect-padded at
    the bottom and right to the next multiple of 8 and the result is cropped back. Because the
    network's Fourier blocks and InstanceNorms see the whole frame, the padding slightly changes
    every pixel (not only the border), as any size change would.
    """
    if options:
        raise ModelError(f"UHDFour takes no options, got {', '.join(sorted(options))}")
    variant = net.variant
    rgb = _check_rgb_input(x, cfa, variant)
    height, width = rgb.shape[:2]
    net.to(device=device, dtype=dtype)
    with torch.inference_mode():
        tensor = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None]
        tensor = _pad_to_multiple(tensor.to(device=device, dtype=dtype), SIZE_MULTIPLE)
        enhanced, _low_res = net(tensor)
        enhanced = enhanced[0, :, :height, :width].clamp(0, 1)
        return enhanced.permute(1, 2, 0).float().cpu().numpy()


# --- descriptors -----------------------------------------------------------------------------

_PAPER = ("C. Li, C.-L. Guo, M. Zhou, Z. Liang, S. Zhou, R. Feng, C. C. Loy, \"Embedding Fourier "
          "for Ultra-High-Definition Low-Light Image Enhancement\", ICLR 2023")
_LICENSE = "S-Lab License 1.0 (non-commercial)"
_CHECKPOINT_NOTE = ("from the Google Drive / Baidu links in the upstream README; a DataParallel "
                    "state_dict whose 'module.' prefix is stripped on loading")
_NOTES = ("Not tiling-safe: every Fourier block takes an FFT over the whole feature map and the "
          "InstanceNorms use whole-frame statistics, so each output pixel depends on the entire "
          "image and no finite tile overlap reproduces the full-frame result (tile_overlap is 0 "
          "for that reason); the design processes a 4K frame in one pass. Sides are reflect-padded "
          "to multiples of 8 and cropped back (upstream crops them instead). Upstream loads its "
          "checkpoints with strict=False; we load strictly, so a mismatch is reported, not "
          "silently ignored. Output clipped to [0, 1] as upstream's save_image does.")

SPECS: list[ModelSpec] = [
    ModelSpec(
        id=UHD.id,
        name="UHDFour (UHD-LL)",
        task=Task.LOW_LIGHT,
        input_kind=InputKind.SRGB,
        build=build_uhdfour_uhd,
        infer=infer_uhdfour,
        manifest="uhdfour_uhd.json",
        size_multiple=SIZE_MULTIPLE,
        min_size=UHD.min_size,
        tiling_safe=False,
        tile_overlap=0,
        tile_align=1,
        weights=(WeightFile(("UHD_checkpoint.pt",), note="trained on UHD-LL; " + _CHECKPOINT_NOTE),),
        paper=_PAPER,
        license=_LICENSE,
        non_commercial=True,
        reported_metrics="UHD-LL test: PSNR 26.23 dB, SSIM 0.900 (paper; unverified)",
        notes=("Architecture of src/EnhanceN_arch.py, which upstream uses for arbitrary photos; "
               "the low branch runs at 1/8 resolution. " + _NOTES),
    ),
    ModelSpec(
        id=LOL.id,
        name="UHDFour (LOL)",
        task=Task.LOW_LIGHT,
        input_kind=InputKind.SRGB,
        build=build_uhdfour_lol,
        infer=infer_uhdfour,
        manifest="uhdfour_lol.json",
        size_multiple=SIZE_MULTIPLE,
        min_size=LOL.min_size,
        tiling_safe=False,
        tile_overlap=0,
        tile_align=1,
        weights=(
            WeightFile(("LOLv1_checkpoint.pt",), note="trained on LOL-v1; " + _CHECKPOINT_NOTE),
            WeightFile(("LOLv2_checkpoint.pt",), note="trained on LOL-v2; " + _CHECKPOINT_NOTE),
        ),
        paper=_PAPER,
        license=_LICENSE,
        non_commercial=True,
        reported_metrics="LOL-v1: PSNR 23.09 dB, SSIM 0.821 (paper; unverified)",
        notes=("Architecture of src/EnhanceN_arch_LOL.py for the LOL checkpoints; the low branch "
               "runs at 1/2 resolution, so it is much heavier than the UHD variant on large "
               "images. " + _NOTES),
    ),
]
