"""PyNET (Ignatov, Van Gool, Timofte, CVPRW 2020): a whole camera ISP as one inverted pyramid.

Written from the paper and the PyTorch port aiff22/PyNET-PyTorch @ b05d817 (`model.py`,
`PyNET(level=0, instance_norm=True, instance_norm_level_1=True)`), whose pretrained
`pynet_level_0.pth` loads strictly into `PyNET` below once the DataParallel `module.` prefix is
stripped (our `read_checkpoint` does that).

Network contract: input (B, 4, h, w) float32, the RGGB Bayer frame packed as
[B, G(0,1), R, G(1,0)] and divided by 1020 (10-bit Huawei P20 data), h and w multiples of 16;
output (B, 3, 2h, 2w) sigmoid RGB in [0, 1] at the Bayer resolution.

The Bayer helpers here (`validate_bayer`, `pad_to_rggb`, `pack_bayer_pynet`, `run_on_bayer`, built
on `nets._bayer`) are shared with PyNET-CA, which was trained on the same data with the same channel order.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from isp_viewer.models.nets._bayer import reflect_to_rggb, rggb_padding, validate_mosaic
from isp_viewer.models.spec import InputConvention, InputKind, ModelSpec, Task, WeightFile

# Packed sides must be divisible by 16 (four 2x2 max-pools), so Bayer sides by 32; the coarsest
# level needs at least 2x2 for its reflection-padded 3x3 convolutions, hence 64 Bayer pixels.
BAYER_MULTIPLE = 32
MIN_PADDED_SIDE = 64
MIN_INPUT_SIDE = 64

# Zurich RAW-to-RGB PNGs hold 10-bit values (0..1023) that PyNET divides by 4*255.
PYNET_RAW_SCALE = 1023.0 / 1020.0


# --------------------------------------------------------------------------- building blocks


def _reflect_pad(x: torch.Tensor, kernel_size: int) -> torch.Tensor:
    p = kernel_size // 2
    return F.pad(x, (p, p, p, p), mode="reflect")


class ConvLayer(nn.Module):
    """Reflection pad -> conv -> optional affine InstanceNorm -> optional LeakyReLU(0.2)."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, *, relu: bool = True,
                 instance_norm: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.conv2d = nn.Conv2d(in_ch, out_ch, kernel_size)
        # InstanceNorm without running stats: normalises with each image's own statistics.
        self.instance = nn.InstanceNorm2d(out_ch, affine=True) if instance_norm else None
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv2d(_reflect_pad(x, self.kernel_size))
        if self.instance is not None:
            x = self.instance(x)
        return F.leaky_relu(x, 0.2) if self.relu else x


class ConvMultiBlock(nn.Module):
    """Parallel double convolutions of sizes 3, 5, ... up to `max_kernel`, concatenated.

    Output channels: out_ch times the number of kernel sizes (1 to 4).
    """

    def __init__(self, in_ch: int, out_ch: int, max_kernel: int, instance_norm: bool) -> None:
        super().__init__()
        self.kernel_sizes = tuple(k for k in (3, 5, 7, 9) if k <= max_kernel)
        # Attribute names (conv_3a, conv_3b, conv_5a, ...) are the checkpoint's keys.
        for k in self.kernel_sizes:
            setattr(self, f"conv_{k}a", ConvLayer(in_ch, out_ch, k, instance_norm=instance_norm))
            setattr(self, f"conv_{k}b", ConvLayer(out_ch, out_ch, k, instance_norm=instance_norm))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [getattr(self, f"conv_{k}b")(getattr(self, f"conv_{k}a")(x)) for k in self.kernel_sizes]
        return torch.cat(branches, 1)


class UpsampleConvLayer(nn.Module):
    """x2 bilinear upsampling (align_corners=True, as trained) -> reflect-padded conv -> LeakyReLU."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.conv2d = nn.Conv2d(in_ch, out_ch, kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
        return F.leaky_relu(self.conv2d(_reflect_pad(x, self.kernel_size)), 0.2)


# --------------------------------------------------------------------------- the network


class PyNET(nn.Module):
    """PyNET as released for level 0 (full resolution), with InstanceNorm on level 1 as well.

    Every level's layers exist, including the side outputs (`conv_l5_out` ... `conv_l1_out`) that
    only served coarse-level training: the checkpoint holds them. `forward` computes the level-0
    path only, which is what the released model returns.

    forward: (B, 4, h, w) packed Bayer /1020, h, w multiples of 16 -> (B, 3, 2h, 2w) in [0, 1].
    """

    def __init__(self) -> None:
        super().__init__()
        # Registration order matters: it is the state_dict (and manifest) order.
        self.conv_l1_d1 = ConvMultiBlock(4, 32, 3, instance_norm=False)
        self.conv_l2_d1 = ConvMultiBlock(32, 64, 3, instance_norm=True)
        self.conv_l3_d1 = ConvMultiBlock(64, 128, 3, instance_norm=True)
        self.conv_l4_d1 = ConvMultiBlock(128, 256, 3, instance_norm=True)

        self.conv_l5_d1 = ConvMultiBlock(256, 512, 3, instance_norm=True)
        self.conv_l5_d2 = ConvMultiBlock(512, 512, 3, instance_norm=True)
        self.conv_l5_d3 = ConvMultiBlock(512, 512, 3, instance_norm=True)
        self.conv_l5_d4 = ConvMultiBlock(512, 512, 3, instance_norm=True)
        self.conv_t4a = UpsampleConvLayer(512, 256)
        self.conv_t4b = UpsampleConvLayer(512, 256)
        self.conv_l5_out = ConvLayer(512, 3, 3, relu=False)

        self.conv_l4_d3 = ConvMultiBlock(512, 256, 3, instance_norm=True)
        self.conv_l4_d4 = ConvMultiBlock(256, 256, 3, instance_norm=True)
        self.conv_l4_d5 = ConvMultiBlock(256, 256, 3, instance_norm=True)
        self.conv_l4_d6 = ConvMultiBlock(256, 256, 3, instance_norm=True)
        self.conv_l4_d8 = ConvMultiBlock(512, 256, 3, instance_norm=True)
        self.conv_t3a = UpsampleConvLayer(256, 128)
        self.conv_t3b = UpsampleConvLayer(256, 128)
        self.conv_l4_out = ConvLayer(256, 3, 3, relu=False)

        self.conv_l3_d3 = ConvMultiBlock(256, 128, 5, instance_norm=True)
        self.conv_l3_d4 = ConvMultiBlock(256, 128, 5, instance_norm=True)
        self.conv_l3_d5 = ConvMultiBlock(256, 128, 5, instance_norm=True)
        self.conv_l3_d6 = ConvMultiBlock(256, 128, 5, instance_norm=True)
        self.conv_l3_d8 = ConvMultiBlock(512, 128, 3, instance_norm=True)
        self.conv_t2a = UpsampleConvLayer(128, 64)
        self.conv_t2b = UpsampleConvLayer(128, 64)
        self.conv_l3_out = ConvLayer(128, 3, 3, relu=False)

        self.conv_l2_d3 = ConvMultiBlock(128, 64, 5, instance_norm=True)
        self.conv_l2_d5 = ConvMultiBlock(192, 64, 7, instance_norm=True)
        self.conv_l2_d6 = ConvMultiBlock(192, 64, 7, instance_norm=True)
        self.conv_l2_d7 = ConvMultiBlock(192, 64, 7, instance_norm=True)
        self.conv_l2_d8 = ConvMultiBlock(192, 64, 7, instance_norm=True)
        self.conv_l2_d10 = ConvMultiBlock(256, 64, 5, instance_norm=True)
        self.conv_l2_d12 = ConvMultiBlock(192, 64, 3, instance_norm=True)
        self.conv_t1a = UpsampleConvLayer(64, 32)
        self.conv_t1b = UpsampleConvLayer(64, 32)
        self.conv_l2_out = ConvLayer(64, 3, 3, relu=False)

        self.conv_l1_d3 = ConvMultiBlock(64, 32, 5, instance_norm=False)
        self.conv_l1_d5 = ConvMultiBlock(96, 32, 7, instance_norm=True)
        self.conv_l1_d6 = ConvMultiBlock(96, 32, 9, instance_norm=True)
        self.conv_l1_d7 = ConvMultiBlock(128, 32, 9, instance_norm=True)
        self.conv_l1_d8 = ConvMultiBlock(128, 32, 9, instance_norm=True)
        self.conv_l1_d9 = ConvMultiBlock(128, 32, 9, instance_norm=True)
        self.conv_l1_d10 = ConvMultiBlock(128, 32, 7, instance_norm=True)
        self.conv_l1_d12 = ConvMultiBlock(128, 32, 5, instance_norm=True)
        self.conv_l1_d14 = ConvMultiBlock(128, 32, 3, instance_norm=False)
        self.conv_l1_out = ConvLayer(32, 3, 3, relu=False)
        self.conv_t0 = UpsampleConvLayer(32, 16)

        self.conv_l0_d1 = ConvLayer(16, 3, 3, relu=False)

    def _encoder(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        l1 = self.conv_l1_d1(x)
        l2 = self.conv_l2_d1(F.max_pool2d(l1, 2))
        l3 = self.conv_l3_d1(F.max_pool2d(l2, 2))
        l4 = self.conv_l4_d1(F.max_pool2d(l3, 2))
        return l1, l2, l3, l4, F.max_pool2d(l4, 2)

    def _level5(self, pool4: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.conv_l5_d4(self.conv_l5_d3(self.conv_l5_d2(self.conv_l5_d1(pool4))))
        return self.conv_t4a(x), self.conv_t4b(x)

    def _level4(self, l4, up_a, up_b) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.conv_l4_d3(torch.cat([l4, up_a], 1))
        x = self.conv_l4_d4(x) + x
        x = self.conv_l4_d5(x) + x
        x = self.conv_l4_d6(x)
        x = self.conv_l4_d8(torch.cat([x, up_b], 1))
        return self.conv_t3a(x), self.conv_t3b(x)

    def _level3(self, l3, up_a, up_b) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.cat([l3, up_a], 1)
        x = self.conv_l3_d3(x) + x
        x = self.conv_l3_d4(x) + x
        x = self.conv_l3_d5(x) + x
        x = self.conv_l3_d6(x)
        x = self.conv_l3_d8(torch.cat([x, l3, up_b], 1))
        return self.conv_t2a(x), self.conv_t2b(x)

    def _level2(self, l2, up_a, up_b) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.conv_l2_d3(torch.cat([l2, up_a], 1))
        x = torch.cat([x, l2], 1)
        x = self.conv_l2_d5(x) + x
        x = self.conv_l2_d6(x) + x
        x = self.conv_l2_d7(x) + x
        x = self.conv_l2_d8(x)
        x = self.conv_l2_d10(torch.cat([x, l2], 1))
        x = self.conv_l2_d12(torch.cat([x, up_b], 1))
        return self.conv_t1a(x), self.conv_t1b(x)

    def _level1(self, l1, up_a, up_b) -> torch.Tensor:
        x = self.conv_l1_d3(torch.cat([l1, up_a], 1))
        x = self.conv_l1_d5(torch.cat([x, l1], 1))
        x = self.conv_l1_d6(x)
        x = self.conv_l1_d7(x) + x
        x = self.conv_l1_d8(x) + x
        x = self.conv_l1_d9(x) + x
        x = self.conv_l1_d10(x)
        x = self.conv_l1_d12(torch.cat([x, l1], 1))
        x = self.conv_l1_d14(torch.cat([x, up_b, l1], 1))
        return self.conv_t0(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        l1, l2, l3, l4, pool4 = self._encoder(x)
        up = self._level5(pool4)
        up = self._level4(l4, *up)
        up = self._level3(l3, *up)
        up = self._level2(l2, *up)
        return torch.sigmoid(self.conv_l0_d1(self._level1(l1, *up)))


def build_pynet() -> PyNET:
    """PyNET with the level-0 checkpoint's layout, float32, eval mode (weights untrained)."""
    return PyNET().float().eval()


# --------------------------------------------------------------------------- Bayer pre/post-processing


def validate_bayer(x: np.ndarray, cfa: str | None, network: str) -> str:
    """Check that `x` is an HxW mosaic with a 2x2 Bayer CFA PyNET-style networks can use.

    Returns the upper-cased CFA string; raises ModelError with a user-facing reason otherwise.
    """
    return validate_mosaic(x, cfa, network, MIN_INPUT_SIDE)


def bayer_padding(h: int, w: int, cfa: str) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) reflection padding that makes an HxW `cfa` mosaic RGGB-phased
    with sides that are multiples of 32 (and at least 64)."""
    return rggb_padding(h, w, cfa, BAYER_MULTIPLE, MIN_PADDED_SIDE)


def pad_to_rggb(x: np.ndarray, cfa: str) -> tuple[np.ndarray, tuple[int, int]]:
    """Reflect-pad an HxW mosaic to an RGGB-phased frame with sides multiples of 32.

    Returns the padded float32 frame and the (top, left) origin of the input inside it.
    """
    return reflect_to_rggb(x, cfa, BAYER_MULTIPLE, MIN_PADDED_SIDE)


def pack_bayer_pynet(rggb: np.ndarray) -> np.ndarray:
    """(H, W) RGGB mosaic -> (4, H/2, W/2) in PyNET's channel order [B, G(0,1), R, G(1,0)]."""
    return np.stack([rggb[1::2, 1::2], rggb[0::2, 1::2], rggb[0::2, 0::2], rggb[1::2, 0::2]])


def run_on_bayer(
    forward,
    x: np.ndarray,
    cfa: str,
    *,
    scale: float,
    offset: float,
    out_scale: float,
    out_offset: float,
    device: str | torch.device,
    dtype: torch.dtype,
) -> np.ndarray:
    """Phase-shift, pad, pack, normalise, run, map back and crop a validated Bayer mosaic.

    The network sees packed * scale + offset; its output y becomes y * out_scale + out_offset,
    clipped to [0, 1]. `forward` maps (1, 4, h, w) -> (1, 3, 2h, 2w). Returns HxWx3 float32 on
    the input's pixel grid.
    """
    h, w = x.shape
    rggb, (top, left) = pad_to_rggb(x, cfa)
    packed = torch.from_numpy(pack_bayer_pynet(rggb) * scale + offset)[None]
    with torch.inference_mode():
        y = forward(packed.to(device=device, dtype=dtype))
        y = y[0, :, top:top + h, left:left + w].float() * out_scale + out_offset
        y = y.clamp(0.0, 1.0).permute(1, 2, 0).cpu().numpy()
    return np.ascontiguousarray(y, dtype=np.float32)


def infer_pynet(
    net: nn.Module,
    x: np.ndarray,
    *,
    cfa: str | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> np.ndarray:
    """Render an HxW Bayer mosaic with PyNET.

    x: HxW float32 in [0, 1], white-normalised (the adapters keep the pedestal: ZURICH_RAW); cfa: "RGGB", "BGGR",
    "GRBG" or "GBRG". Our [0, 1] is taken as the 10-bit range 0..1023 that PyNET divided by
    1020. Returns HxWx3 float32 display-referred RGB in [0, 1] on the input's grid.
    """
    pattern = validate_bayer(x, cfa, "PyNET")
    net.to(device=device, dtype=dtype).eval()
    return run_on_bayer(net, x, pattern, scale=PYNET_RAW_SCALE, offset=0.0, out_scale=1.0,
                        out_offset=0.0, device=device, dtype=dtype)


# --------------------------------------------------------------------------- descriptor

CAMERA_NOTE = (
    "Camera-specific: trained on Huawei P20 (Sony IMX380) RAW against Canon 5D Mark IV photos "
    "(Zurich RAW-to-RGB); on other cameras' RAW expect colour casts and noise handling "
    "that do not fit — that is the model, not a bug."
)

# Zurich RAW-to-RGB frames are fed as stored: sensor values with their pedestal, no white balance.
ZURICH_RAW = InputConvention(
    white_balance="none", black_level="keep", colour_space="linear sensor RAW (Huawei P20, IMX380)",
    source="NETWORKS.md §1 Input [code]: aiff22/PyNET-PyTorch load_data.py reads the Zurich RAW PNGs "
           "as they are and divides by 4*255",
)

SPECS: list[ModelSpec] = [
    ModelSpec(
        id="pynet",
        name="PyNET",
        task=Task.RAW_TO_RGB,
        input_kind=InputKind.BAYER,
        build=build_pynet,
        infer=infer_pynet,
        manifest="pynet.json",
        output_scale=1,
        size_multiple=BAYER_MULTIPLE,
        min_size=MIN_INPUT_SIDE,
        # InstanceNorm (per-image statistics) and align_corners=True upsampling make the output
        # depend on the whole frame: tiles never reproduce the full-frame result exactly.
        # Measured with crc32 weights on 512x512: the seam part of a tile's error fades by
        # ~130 px of context; ~0.02 mean abs error from per-tile statistics always remains.
        tiling_safe=False,
        tile_overlap=128,
        tile_align=2,
        weights=(WeightFile(("pynet_level_0.pth",),
                            note="PyTorch port's level-0 model (Google Drive link in the "
                                 "aiff22/PyNET-PyTorch README); keys carry DataParallel's 'module.'"),),
        paper="A. Ignatov, L. Van Gool, R. Timofte, \"Replacing Mobile Camera ISP with a Single Deep "
              "Learning Model\", CVPR Workshops 2020",
        license="CC BY-NC-SA 4.0",
        non_commercial=True,
        reported_metrics="Zurich RAW-to-RGB test set: PSNR 21.17 dB, MS-SSIM 0.8623 (PyTorch port, "
                         "README); TF original ~21.19 dB / 0.8620 (paper, unverified)",
        notes=CAMERA_NOTE + " Input: RGGB packed as [B, G, R, G], [0,1] read as 10-bit /1020 "
              "(the dataset was not black-subtracted). Output at the Bayer resolution. Not "
              "tile-exact (InstanceNorm): prefer full frames; tiles need wide overlap. "
              "Input convention: " + ZURICH_RAW.describe() + ".",
        input_convention=ZURICH_RAW,
    ),
]
