"""PyNET-CA (Kim, Song, Ye, Baek, ECCV-W AIM 2020): PyNET with channel attention, team "skyb".

Written from the paper and egyptdj/skyb-aim2020-public @ 4993089 (`model.py`, `PyNetCA()` with
its defaults: 4 in, 3 out, 16 hidden, InstanceNorm and channel attention on). The released
`model_early_fidelity.pth` / `model_early_perceptual.pth` are plain state_dicts of that module
and load strictly into `PyNetCA` below.

Network contract: input (B, 4, h, w) float32, the RGGB Bayer frame packed as
[B, G(0,1), R, G(1,0)], divided by 1023 and mapped to [-1, 1]; h and w multiples of 16.
Output (B, 3, 2h, 2w) tanh RGB in [-1, 1] at the Bayer resolution, shown as (y + 1) / 2.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from isp_viewer.models.nets.pynet import BAYER_MULTIPLE, CAMERA_NOTE, MIN_INPUT_SIDE, run_on_bayer, validate_bayer
from isp_viewer.models.spec import InputConvention, InputKind, ModelSpec, Task, WeightFile

HIDDEN = 16


def _conv(in_ch: int, out_ch: int, kernel_size: int, bias: bool = True) -> nn.Conv2d:
    """'Same' convolution with reflection padding, as every spatial conv of PyNET-CA."""
    return nn.Conv2d(in_ch, out_ch, kernel_size, padding=kernel_size // 2, bias=bias, padding_mode="reflect")


class ChannelAttention(nn.Module):
    """Squeeze-and-excitation: x * sigmoid(conv1x1(relu(conv1x1(global_mean(x)))))."""

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        # Indices 1 and 3 of this Sequential are the checkpoint's keys.
        self.channel_attention = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, channels // reduction, 1),
            nn.ReLU(),
            nn.Conv2d(channels // reduction, channels, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.channel_attention(x))


def _double_conv(in_ch: int, out_ch: int, kernel_size: int, instance_norm: bool) -> nn.Sequential:
    """conv -> LeakyReLU -> conv [-> InstanceNorm] -> LeakyReLU; the norm replaces the 2nd bias."""
    layers = [_conv(in_ch, out_ch, kernel_size), nn.LeakyReLU(0.2),
              _conv(out_ch, out_ch, kernel_size, bias=not instance_norm)]
    if instance_norm:
        layers.append(nn.InstanceNorm2d(out_ch, affine=True))
    layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


class MultiConv(nn.Module):
    """Parallel double convs of sizes 3, 5, ... up to `max_kernel`, concatenated, then
    channel attention over the concatenation. Output channels: out_ch * number of sizes."""

    def __init__(self, in_ch: int, out_ch: int, max_kernel: int = 3, instance_norm: bool = False) -> None:
        super().__init__()
        self.multiconv_layers = nn.ModuleList(
            _double_conv(in_ch, out_ch, k, instance_norm) for k in range(3, max_kernel + 1, 2)
        )
        n = len(self.multiconv_layers)
        self.channel_attention = ChannelAttention(out_ch * n, reduction=n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.channel_attention(torch.cat([branch(x) for branch in self.multiconv_layers], 1))


def _down(in_ch: int, out_ch: int, instance_norm: bool = True) -> nn.Sequential:
    """Max-pool by 2, then a 3x3 MultiConv: the entry of each coarser level."""
    return nn.Sequential(nn.MaxPool2d(2, 2), MultiConv(in_ch, out_ch, 3, instance_norm))


def _up(in_ch: int, out_ch: int) -> nn.Sequential:
    """x2 bilinear (align_corners=True, as trained) -> 3x3 conv -> LeakyReLU."""
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
                         _conv(in_ch, out_ch, 3), nn.LeakyReLU(0.2))


class PyNetCA(nn.Module):
    """PyNET-CA; `forward(x, level=0)` computes the released full-resolution path only.

    The per-level output convs (`level1_conv11`, ..., `level5_conv5`) served coarse-level
    training and are kept because the checkpoints hold them.

    forward: (B, 4, h, w) packed Bayer in [-1, 1], h, w multiples of 16 -> (B, 3, 2h, 2w) tanh.
    """

    def __init__(self) -> None:
        super().__init__()
        c1, c2, c3, c4, c5 = (HIDDEN * m for m in (2, 4, 8, 16, 32))
        # Registration order is the state_dict (and manifest) order.
        self.level0_conv1 = MultiConv(c1, c1, 9, instance_norm=False)
        self.level0_conv2 = nn.Conv2d(4 * c1, 3 * 4, 1)
        self.level0_up1 = nn.PixelShuffle(2)

        self.level1_conv1 = MultiConv(4, c1, 3, instance_norm=False)
        self.level1_conv2 = MultiConv(2 * c1, c1, 5, instance_norm=False)
        self.level1_conv3 = MultiConv(3 * c1, c1, 7, instance_norm=True)
        self.level1_conv4 = MultiConv(3 * c1, c1, 9, instance_norm=True)
        self.level1_conv5 = MultiConv(4 * c1, c1, 9, instance_norm=True)
        self.level1_conv6 = MultiConv(4 * c1, c1, 9, instance_norm=True)
        self.level1_conv7 = MultiConv(4 * c1, c1, 9, instance_norm=True)
        self.level1_conv8 = MultiConv(4 * c1, c1, 7, instance_norm=True)
        self.level1_conv9 = MultiConv(4 * c1, c1, 5, instance_norm=True)
        self.level1_conv10 = MultiConv(4 * c1, c1, 3, instance_norm=False)
        self.level1_conv11 = _conv(c1, 3, 3)
        self.level1_up1 = _up(2 * c1, c1)
        self.level1_up2 = _up(2 * c1, c1)

        self.level2_conv1 = _down(c1, c2)
        self.level2_conv2 = MultiConv(2 * c2, c2, 5, instance_norm=True)
        self.level2_conv3 = MultiConv(3 * c2, c2, 7, instance_norm=True)
        self.level2_conv4 = MultiConv(3 * c2, c2, 7, instance_norm=True)
        self.level2_conv5 = MultiConv(3 * c2, c2, 7, instance_norm=True)
        self.level2_conv6 = MultiConv(3 * c2, c2, 7, instance_norm=True)
        self.level2_conv7 = MultiConv(4 * c2, c2, 5, instance_norm=True)
        self.level2_conv8 = MultiConv(3 * c2, c2, 3, instance_norm=True)
        self.level2_conv9 = _conv(c2, 3, 3)
        self.level2_up1 = _up(2 * c2, c2)
        self.level2_up2 = _up(2 * c2, c2)

        self.level3_conv1 = _down(c2, c3)
        self.level3_conv2 = MultiConv(2 * c3, c3, 5, instance_norm=True)
        self.level3_conv3 = MultiConv(2 * c3, c3, 5, instance_norm=True)
        self.level3_conv4 = MultiConv(2 * c3, c3, 5, instance_norm=True)
        self.level3_conv5 = MultiConv(2 * c3, c3, 5, instance_norm=True)
        self.level3_conv6 = MultiConv(4 * c3, c3, 3, instance_norm=True)
        self.level3_conv7 = _conv(c3, 3, 3)
        self.level3_up1 = _up(2 * c3, c3)
        self.level3_up2 = _up(2 * c3, c3)

        self.level4_conv1 = _down(c3, c4)
        self.level4_conv2 = MultiConv(2 * c4, c4, 3, instance_norm=True)
        self.level4_conv3 = MultiConv(c4, c4, 3, instance_norm=True)
        self.level4_conv4 = MultiConv(c4, c4, 3, instance_norm=True)
        self.level4_conv5 = MultiConv(c4, c4, 3, instance_norm=True)
        self.level4_conv6 = MultiConv(2 * c4, c4, 3, instance_norm=True)
        self.level4_conv7 = _conv(c4, 3, 3)
        self.level4_up1 = _up(2 * c4, c4)
        self.level4_up2 = _up(2 * c4, c4)

        self.level5_conv1 = _down(c4, c5)
        self.level5_conv2 = MultiConv(c5, c5, 3, instance_norm=True)
        self.level5_conv3 = MultiConv(c5, c5, 3, instance_norm=True)
        self.level5_conv4 = MultiConv(c5, c5, 3, instance_norm=True)
        self.level5_conv5 = _conv(c5, 3, 3)

    def _level5(self, x4: torch.Tensor) -> torch.Tensor:
        return self.level5_conv4(self.level5_conv3(self.level5_conv2(self.level5_conv1(x4))))

    def _level4(self, x4: torch.Tensor, y5: torch.Tensor) -> torch.Tensor:
        x = self.level4_conv2(torch.cat([x4, self.level4_up1(y5)], 1))
        x = self.level4_conv3(x) + x
        x = self.level4_conv4(x) + x
        x = self.level4_conv5(x)
        return self.level4_conv6(torch.cat([x, self.level4_up2(y5)], 1))

    def _level3(self, x3: torch.Tensor, y4: torch.Tensor) -> torch.Tensor:
        x = torch.cat([x3, self.level3_up1(y4)], 1)
        x = self.level3_conv2(x) + x
        x = self.level3_conv3(x) + x
        x = self.level3_conv4(x) + x
        x = self.level3_conv5(x)
        return self.level3_conv6(torch.cat([x, x3, self.level3_up2(y4)], 1))

    def _level2(self, x2: torch.Tensor, y3: torch.Tensor) -> torch.Tensor:
        x = self.level2_conv2(torch.cat([x2, self.level2_up1(y3)], 1))
        x = torch.cat([x, x2], 1)
        x = self.level2_conv3(x) + x
        x = self.level2_conv4(x) + x
        x = self.level2_conv5(x) + x
        x = self.level2_conv6(x)
        x = self.level2_conv7(torch.cat([x, x2], 1))
        return self.level2_conv8(torch.cat([x, self.level2_up2(y3)], 1))

    def _level1(self, x1: torch.Tensor, y2: torch.Tensor) -> torch.Tensor:
        x = self.level1_conv2(torch.cat([x1, self.level1_up1(y2)], 1))
        x = self.level1_conv3(torch.cat([x, x1], 1))
        x = self.level1_conv4(x)
        x = self.level1_conv5(x) + x
        x = self.level1_conv6(x) + x
        x = self.level1_conv7(x) + x
        x = self.level1_conv8(x)
        x = self.level1_conv9(torch.cat([x, x1], 1))
        return self.level1_conv10(torch.cat([x, self.level1_up2(y2), x1], 1))

    def forward(self, x: torch.Tensor, level: int = 0) -> torch.Tensor:
        if level != 0:
            raise ValueError("only the full-resolution output (level=0) of PyNET-CA is implemented")
        x1 = self.level1_conv1(x)
        x2 = self.level2_conv1(x1)
        x3 = self.level3_conv1(x2)
        x4 = self.level4_conv1(x3)
        y4 = self._level4(x4, self._level5(x4))
        y1 = self._level1(x1, self._level2(x2, self._level3(x3, y4)))
        return torch.tanh(self.level0_up1(self.level0_conv2(self.level0_conv1(y1))))


def build_pynet_ca() -> PyNetCA:
    """PyNET-CA with the released checkpoints' layout, float32, eval mode (weights untrained)."""
    return PyNetCA().float().eval()


# --------------------------------------------------------------------------- inference

# Upstream's self-ensemble loops k over 0..7, transposing when k // 4 == 1 and flipping by
# k // 2 (0 none, 1 W, 2 H, 3 both). Each transform thus occurs twice (k and k + 1), so averaging
# the 4 distinct ones (k = 0, 2, 4, 6) gives the same mean at half the cost.
ENSEMBLE_KS = (0, 2, 4, 6)


def _flip(t: torch.Tensor, k: int) -> torch.Tensor:
    dims = {1: (-1,), 2: (-2,), 3: (-1, -2)}.get(k // 2)
    return t.flip(dims) if dims else t


def _augment(t: torch.Tensor, k: int) -> torch.Tensor:
    return _flip(t.transpose(-1, -2) if k // 4 == 1 else t, k)


def _deaugment(t: torch.Tensor, k: int) -> torch.Tensor:
    t = _flip(t, k)
    return t.transpose(-1, -2) if k // 4 == 1 else t


def _self_ensemble(net: nn.Module):
    """forward averaging the network over upstream's flip/transpose variants of the packed input
    (channels keep their meaning; only the spatial layout changes, as upstream does)."""
    def forward(packed: torch.Tensor) -> torch.Tensor:
        return torch.stack([_deaugment(net(_augment(packed, k)), k) for k in ENSEMBLE_KS]).mean(0)
    return forward


def infer_pynet_ca(
    net: nn.Module,
    x: np.ndarray,
    *,
    cfa: str | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    self_ensemble: bool = False,
) -> np.ndarray:
    """Render an HxW Bayer mosaic with PyNET-CA.

    x: HxW float32 in [0, 1], white-normalised (the adapters keep the pedestal: ZURICH_RAW_CA); cfa: "RGGB", "BGGR",
    "GRBG" or "GBRG". Our [0, 1] is the network's raw/1023, mapped to [-1, 1]. With
    `self_ensemble` the output is upstream's flip/transpose ensemble average (4x the cost).
    Returns HxWx3 float32 display-referred RGB in [0, 1] on the input's grid.
    """
    pattern = validate_bayer(x, cfa, "PyNET-CA")
    net.to(device=device, dtype=dtype).eval()
    forward = _self_ensemble(net) if self_ensemble else net
    return run_on_bayer(forward, x, pattern, scale=2.0, offset=-1.0, out_scale=0.5, out_offset=0.5,
                        device=device, dtype=dtype)


# --------------------------------------------------------------------------- descriptor

# The same Zurich RAW PNGs as PyNET, fed as stored (pedestal kept, no white balance), /1023.
ZURICH_RAW_CA = InputConvention(
    white_balance="none", black_level="keep", colour_space="linear sensor RAW (Huawei P20, IMX380)",
    source="NETWORKS.md §1b Input [code]: egyptdj/skyb-aim2020-public reads the Zurich RAW PNGs as "
           "they are, /1023 then x*2-1",
)

SPECS: list[ModelSpec] = [
    ModelSpec(
        id="pynet_ca",
        fp16=True, bf16=True,  # measured: tests/models/test_precision.py
        name="PyNET-CA",
        task=Task.RAW_TO_RGB,
        input_kind=InputKind.BAYER,
        build=build_pynet_ca,
        infer=infer_pynet_ca,
        manifest="pynet_ca.json",
        output_scale=1,
        size_multiple=BAYER_MULTIPLE,
        min_size=MIN_INPUT_SIDE,
        # InstanceNorm, channel attention (global means) and align_corners=True upsampling make
        # the output depend on the whole frame: tiles never reproduce the full frame exactly.
        # Measured with crc32 weights on 512x512: the seam part of a tile's error stops
        # shrinking at ~110 px of context (upstream tiles with 112 px overlap); 128 keeps tiles
        # on the 32-pixel size multiple.
        tiling_safe=False,
        tile_overlap=128,
        tile_align=2,
        weights=(
            WeightFile(("model_early_fidelity.pth",),
                       note="fidelity (PSNR) track; from pretrained_model.zip (Dropbox link in the "
                            "egyptdj/skyb-aim2020-public README), result/pynetca/model/"),
            WeightFile(("model_early_perceptual.pth",),
                       note="perceptual track; same archive and folder"),
        ),
        paper="B.-H. Kim, J. Song, J. C. Ye, J. Baek, \"PyNET-CA: Enhanced PyNET with Channel "
              "Attention for End-to-End Mobile Image Signal Processing\", ECCV Workshops (AIM) 2020",
        license="GPL-3.0",
        non_commercial=False,
        reported_metrics="AIM 2020 Learned Smartphone ISP challenge, team skyb, fidelity track: "
                         "PSNR 21.93 dB / SSIM 0.7865 (challenge report; unverified here)",
        notes=CAMERA_NOTE + " Input: RGGB packed as [B, G, R, G], [0,1] read as raw/1023 and "
              "mapped to [-1,1]; output (y+1)/2 at the Bayer resolution. Upstream renders "
              "448x448 Bayer patches (stride 224, cosine blending) with a flip/transpose "
              "ensemble (option self_ensemble). Its README warns results may not reproduce "
              "with torch > 1.4. Not tile-exact (InstanceNorm, channel attention). "
              "Input convention: " + ZURICH_RAW_CA.describe() + ".",
        options={"self_ensemble": False},
        input_convention=ZURICH_RAW_CA,
    ),
]
