"""SRGAN / SRResNet generators (Ledig et al., CVPR 2017) in two community ports.

The authors released no weights, so ISP Viewer runs the two ports whose checkpoints people use
(reference NETWORKS.md §5):

* Lornatang/SRGAN-PyTorch @ 8842030 — `SRResNet` ×4: 16 residual blocks (conv without bias →
  BatchNorm → PReLU → conv → BatchNorm, plus skip), a global skip around the trunk, two
  conv → PixelShuffle(2) → PReLU stages and a 9×9 output conv. The [0, 1] clamp is part of
  upstream's forward. One class serves both `SRResNet_x4-ImageNet.pth.tar` (MSE) and
  `SRGAN_x4-ImageNet.pth.tar` (GAN).
* leftthomas/SRGAN, the **2018** `Generator` (commit b0323c6) that fits the released
  `netG_epoch_{2,4,8}_100.pth`: 5 residual blocks (conv with bias), `block7` = conv + PReLU
  (the current upstream file has BatchNorm there and does not load those files), log2(scale)
  upsampling stages, 9×9 output conv and `(tanh(y) + 1) / 2`.

Both take sRGB in [0, 1] without mean normalisation and give sRGB in [0, 1] at scale× size.
The two share only the idea of the conv → PixelShuffle → PReLU stage; their state_dict names
differ (a Sequential in one, named attributes in the other), so each has its own classes.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import torch
from torch import nn

from isp_viewer.core.errors import ModelError
from isp_viewer.models.spec import InputKind, ModelSpec, Task, WeightFile

CHANNELS = 64
PAPER = ("Ledig et al., Photo-Realistic Single Image Super-Resolution Using a Generative "
         "Adversarial Network, CVPR 2017")
LEFTTHOMAS_SCALES = (2, 4, 8)
LEFTTHOMAS_SHA256 = {
    2: "a7ddfb8d2109ea7360ca7a6913c3acbb7128deef16c2868476e2bb1e2cf9ec3b",
    4: "f4c381640826a48d2440583e4920c6bb4041804f4e285c3c6d585f03961fe87c",
    8: "91bc47a807f09ebb9c40a69ff2fd3b598e7e618d91f506b71a9c3ec2cbb94355",
}
MIN_SIZE = 1


def _conv(c_in: int, c_out: int, kernel: int, bias: bool = True) -> nn.Conv2d:
    """Stride-1 'same' convolution (zero padding), as in both ports."""
    return nn.Conv2d(c_in, c_out, kernel, stride=1, padding=kernel // 2, bias=bias)


def _upsample_stages(scale: int) -> int:
    if scale not in (2, 4, 8):
        raise ValueError(f"SRGAN generators upsample by 2, 4 or 8, not {scale}")
    return int(math.log2(scale))


# --- Lornatang/SRGAN-PyTorch SRResNet ---------------------------------------------------------


class _LornatangResidualBlock(nn.Module):
    """x + (conv → BN → PReLU → conv → BN)(x); convs have no bias (BatchNorm follows)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.rcb = nn.Sequential(
            _conv(channels, channels, 3, bias=False),
            nn.BatchNorm2d(channels),
            nn.PReLU(),
            _conv(channels, channels, 3, bias=False),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.rcb(x)


class _LornatangUpsample(nn.Module):
    """×2: conv to 4·C channels → PixelShuffle(2) → PReLU (keys upsample_block.0 / .2)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.upsample_block = nn.Sequential(
            _conv(channels, channels * 4, 3), nn.PixelShuffle(2), nn.PReLU()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.upsample_block(x)


class SRResNetLornatang(nn.Module):
    """Lornatang's SRResNet generator.

    forward: (N, 3, H, W) sRGB in [0, 1] → (N, 3, scale·H, scale·W), clamped to [0, 1] (the clamp
    is inside upstream's forward, so it is here too).
    """

    def __init__(self, scale: int = 4, channels: int = CHANNELS, num_blocks: int = 16) -> None:
        super().__init__()
        self.scale = scale
        self.conv1 = nn.Sequential(_conv(3, channels, 9), nn.PReLU())
        self.trunk = nn.Sequential(*[_LornatangResidualBlock(channels) for _ in range(num_blocks)])
        self.conv2 = nn.Sequential(_conv(channels, channels, 3, bias=False), nn.BatchNorm2d(channels))
        self.upsampling = nn.Sequential(*[_LornatangUpsample(channels) for _ in range(_upsample_stages(scale))])
        self.conv3 = _conv(channels, 3, 9)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        head = self.conv1(x)
        features = self.conv2(self.trunk(head)) + head
        return self.conv3(self.upsampling(features)).clamp(0.0, 1.0)


# --- leftthomas/SRGAN 2018 Generator -----------------------------------------------------------


class _BatchNormWithoutCounter(nn.BatchNorm2d):
    """BatchNorm2d without the `num_batches_tracked` buffer.

    The 2018 leftthomas files were saved before PyTorch 0.4.1 added that counter, and the
    reference manifest (taken from the files) has no such key. Loading a plain dict would make
    torch's legacy-format hook insert a counter key that this module then rejects under strict
    loading, so the state_dict is treated as current-format instead.
    """

    def __init__(self, channels: int) -> None:
        super().__init__(channels)
        self.register_buffer("num_batches_tracked", None)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args) -> None:
        super()._load_from_state_dict(state_dict, prefix, {**local_metadata, "version": 2}, *args)


class _LeftthomasResidualBlock(nn.Module):
    """x + bn2(conv2(prelu(bn1(conv1(x))))); convs keep their bias."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = _conv(channels, channels, 3)
        self.bn1 = _BatchNormWithoutCounter(channels)
        self.prelu = nn.PReLU()
        self.conv2 = _conv(channels, channels, 3)
        self.bn2 = _BatchNormWithoutCounter(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.bn2(self.conv2(self.prelu(self.bn1(self.conv1(x)))))


class _LeftthomasUpsample(nn.Module):
    """×2: conv to 4·C channels → PixelShuffle(2) → PReLU (keys conv / prelu)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = _conv(channels, channels * 4, 3)
        self.pixel_shuffle = nn.PixelShuffle(2)
        self.prelu = nn.PReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.prelu(self.pixel_shuffle(self.conv(x)))


class SRGANLeftthomas2018(nn.Module):
    """leftthomas's 2018 SRGAN generator (block7 = conv + PReLU).

    forward: (N, 3, H, W) sRGB in [0, 1] → (N, 3, scale·H, scale·W) in [0, 1] via (tanh + 1) / 2.
    """

    RESIDUAL_BLOCKS = ("block2", "block3", "block4", "block5", "block6")

    def __init__(self, scale: int = 4, channels: int = CHANNELS) -> None:
        super().__init__()
        self.scale = scale
        self.block1 = nn.Sequential(_conv(3, channels, 9), nn.PReLU())
        for name in self.RESIDUAL_BLOCKS:
            self.add_module(name, _LeftthomasResidualBlock(channels))
        self.block7 = nn.Sequential(_conv(channels, channels, 3), nn.PReLU())
        stages: list[nn.Module] = [_LeftthomasUpsample(channels) for _ in range(_upsample_stages(scale))]
        self.block8 = nn.Sequential(*stages, _conv(channels, 3, 9))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        head = self.block1(x)
        features = head
        for name in self.RESIDUAL_BLOCKS:
            features = getattr(self, name)(features)
        features = self.block7(features)
        return (torch.tanh(self.block8(head + features)) + 1) / 2


# --- builders ----------------------------------------------------------------------------------


def _ready(net: nn.Module) -> nn.Module:
    return net.float().eval()


def build_srgan_lornatang_x4() -> nn.Module:
    return _ready(SRResNetLornatang(scale=4))


def build_srgan_leftthomas_x2() -> nn.Module:
    return _ready(SRGANLeftthomas2018(scale=2))


def build_srgan_leftthomas_x4() -> nn.Module:
    return _ready(SRGANLeftthomas2018(scale=4))


def build_srgan_leftthomas_x8() -> nn.Module:
    return _ready(SRGANLeftthomas2018(scale=8))


# --- inference ---------------------------------------------------------------------------------


def _check_rgb(x: np.ndarray, cfa: str | None) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim == 2 or cfa is not None:
        raise ModelError("SRGAN super-resolves RGB images; it cannot take a RAW mosaic")
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ModelError(f"SRGAN expects an HxWx3 RGB image, got an array of shape {arr.shape}")
    if min(arr.shape[:2]) < MIN_SIZE:
        raise ModelError(f"image of {arr.shape[1]}x{arr.shape[0]} px is too small for SRGAN")
    return arr.astype(np.float32, copy=False)


def infer_srgan(net: nn.Module, x: np.ndarray, *, cfa: str | None = None,
                device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
                **options) -> np.ndarray:
    """Super-resolve an sRGB image with either SRGAN port.

    x: HxWx3 float32 sRGB in [0, 1]. Returns (scale·H)x(scale·W)x3 float32 sRGB in [0, 1]
    (scale from `net.scale`). Both ports take [0, 1] input as is; any size works (zero-padded
    'same' convolutions). The output is clipped to [0, 1] as both upstreams save it.
    """
    rgb = _check_rgb(x, cfa)
    scale = int(cast(int, net.scale))   # a plain int attribute; nn.Module's __getattr__ types it as Tensor
    net = net.to(device=device, dtype=dtype).eval()
    batch = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None].to(device=device, dtype=dtype)
    with torch.inference_mode():
        out = net(batch)[0]
    result = out.float().permute(1, 2, 0).cpu().numpy()
    expected = (rgb.shape[0] * scale, rgb.shape[1] * scale, 3)
    if result.shape != expected:  # a wrong network object, not a user error
        raise ModelError(f"SRGAN returned {result.shape}, expected {expected}")
    return np.clip(result, 0.0, 1.0).astype(np.float32, copy=False)


# --- descriptors -------------------------------------------------------------------------------

# Receptive-field radius in input pixels (checked by tests/models/test_srgan.py): Lornatang
# 4 (9x9) + 32 (16 blocks) + 1 (conv2) + 1 + 0.5 (two upsampling convs) + 1 (9x9 at x4) = 39.5;
# leftthomas 4 + 10 (5 blocks) + 1 (block7) + upsampling convs + final 9x9 ≈ 17.5.
LORNATANG_OVERLAP = 40
LEFTTHOMAS_OVERLAP = 18
# Working memory per input pixel: the widest step is the last upsampler, 64 channels at the
# output resolution in and out (512 x scale² bytes). The peak, measured as the slope of peak RSS
# over tile pixels (bench/tile_memory.py, fp32 CPU), is 1.2-2.3x that: 4621, 10084-12843 and 59873
# for leftthomas x2, x4, x8, 16139 for Lornatang x4. Declared with room above the largest.
PEAK_BYTES_PER_SCALE_SQUARED = 1200

SPECS: list[ModelSpec] = [
    ModelSpec(
        id="srgan_lornatang_x4",
        fp16=True, bf16=True,  # measured: tests/models/test_precision.py
        name="SRResNet/SRGAN x4 (Lornatang)",
        task=Task.SUPER_RESOLUTION,
        input_kind=InputKind.SRGB,
        build=build_srgan_lornatang_x4,
        infer=infer_srgan,
        manifest="srgan_lornatang_x4.json",
        output_scale=4,
        size_multiple=1,
        min_size=MIN_SIZE,
        tiling_safe=True,
        tile_overlap=LORNATANG_OVERLAP,
        tile_align=1,
        peak_bytes_per_pixel=PEAK_BYTES_PER_SCALE_SQUARED * 4 ** 2,
        weights=(
            WeightFile(("SRResNet_x4-ImageNet.pth.tar",), None,
                       "MSE-trained SRResNet (Hugging Face ChangyuLiu/SRGAN-PyTorch)"),
            WeightFile(("SRGAN_x4-ImageNet.pth.tar",), None, "GAN-trained SRGAN, same architecture"),
        ),
        paper=PAPER,
        license="Apache-2.0",
        non_commercial=False,
        reported_metrics=(
            "Set5 x4 Y-channel PSNR/SSIM from Lornatang's README [README, not re-measured here]: "
            "SRResNet 32.16/0.8938, SRGAN 30.67/0.8627. Paper (quoted there): SRResNet 32.05/0.9019, "
            "SRGAN 29.40/0.8472; Set14 28.49/0.8184 and 26.02/0.7397; BSD100 27.58/0.7620 and 25.16/0.6688."
        ),
        notes=(
            "Lornatang/SRGAN-PyTorch @ 8842030 (key names since 2023-05; older releases differ). "
            "Checkpoint weights sit under 'state_dict', possibly with an '_orig_mod.' prefix. Upstream's "
            "own loader is not strict; here loading is. Output clamped to [0, 1] inside forward."
        ),
    ),
    *[
        ModelSpec(
            id=f"srgan_leftthomas_x{scale}",
            # measured by tests/models/test_precision.py: bf16 drifts 0.022 at x2
            fp16=True, bf16=scale != 2,
            name=f"SRGAN x{scale} (leftthomas, 2018)",
            task=Task.SUPER_RESOLUTION,
            input_kind=InputKind.SRGB,
            build={2: build_srgan_leftthomas_x2, 4: build_srgan_leftthomas_x4, 8: build_srgan_leftthomas_x8}[scale],
            infer=infer_srgan,
            manifest=f"srgan_leftthomas_x{scale}.json",
            output_scale=scale,
            size_multiple=1,
            min_size=MIN_SIZE,
            tiling_safe=True,
            tile_overlap=LEFTTHOMAS_OVERLAP,
            tile_align=1,
            peak_bytes_per_pixel=PEAK_BYTES_PER_SCALE_SQUARED * scale ** 2,
            weights=(WeightFile((f"netG_epoch_{scale}_100.pth",), LEFTTHOMAS_SHA256[scale],
                                "leftthomas/SRGAN epochs/ at b0323c6 (2018, deleted from the repo 2019-06)"),),
            paper=PAPER,
            license="MIT",
            non_commercial=False,
            reported_metrics=(
                "Upstream README gives per-image examples only. "
                + ("Measured here (tests/models/test_srgan.py), Set5 x4, Y channel, border 4, PIL bicubic "
                   "LR: mean 30.67 dB vs PIL bicubic 28.43 dB [verified]." if scale == 4 else "")
            ),
            notes=(
                "2018 Generator (block7 = conv + PReLU), trained on a VOC2012 subset with a GAN loss; "
                "the repository's current model.py (block7 = conv + BatchNorm) does not fit these files. "
                "Files predate num_batches_tracked; output (tanh + 1) / 2."
            ),
        )
        for scale in LEFTTHOMAS_SCALES
    ],
]
