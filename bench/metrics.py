"""PSNR + SSIM on a 12 MP image: isp_viewer.metrics against scikit-image, measured in one run;
then the catalogue's other metrics, each next to a reference implementation where one installs.

    python bench/metrics.py [--height 3000 --width 4000 --repeat 3] [--skip-fidelity] [--skip-new]

Prints wall-clock and CPU seconds of each side, their ratio, and checks the values agree
(|dSSIM| <= 1e-4, |dPSNR| <= 1e-4 dB; dE2000 mean within 1e-3 of colour-science; LPIPS/DISTS
within 1e-4 relative of torchmetrics with the same random backbone). Exits with status 1 when
they do not. The CPU ratio is the steadier figure on a shared machine; the wall ratio is what a
user sees. LPIPS and DISTS run on --perceptual-size crops (default 1024x1024 AlexNet, 512x512
VGG16/DISTS): a 12 MP VGG16 pass needs ~10 GB and minutes on two cores.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import timed

from isp_viewer.metrics import ISP_PAPER, SR_PAPER, psnr_ssim


def make_pair(h: int, w: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A photo-like reference (smooth structure plus fine texture) and a degraded copy."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((h // 16 + 1, w // 16 + 1, 3)).astype(np.float32)
    ref = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    ref += rng.standard_normal((h, w, 3), dtype=np.float32) * np.float32(0.03)
    np.clip(ref, 0, 1, out=ref)
    test = cv2.GaussianBlur(ref, (0, 0), 0.8)
    test += rng.standard_normal((h, w, 3), dtype=np.float32) * np.float32(0.01)
    np.clip(test, 0, 1, out=test)
    return test, ref


def skimage_psnr_ssim(test: np.ndarray, ref: np.ndarray, data_range: float) -> tuple[float, float]:
    axis = 2 if test.ndim == 3 else None
    s = structural_similarity(ref, test, data_range=data_range, channel_axis=axis,
                              gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    p = peak_signal_noise_ratio(ref, test, data_range=data_range)
    return float(p), float(s)


def skimage_y_psnr_ssim(test: np.ndarray, ref: np.ndarray, crop: int) -> tuple[float, float]:
    """The SR-paper convention done by hand: crop, 8-bit codes, BT.601 Y in [16, 235], skimage."""
    def y_plane(img: np.ndarray) -> np.ndarray:
        codes = np.rint(np.clip(img[crop:-crop, crop:-crop], 0, 1) * 255).astype(np.float64)
        return 16.0 + codes @ np.array([65.481, 128.553, 24.966]) / 255.0

    return skimage_psnr_ssim(y_plane(test), y_plane(ref), 255.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--height", type=int, default=3000)
    ap.add_argument("--width", type=int, default=4000)
    ap.add_argument("--repeat", type=int, default=3, help="best of N for ours")
    ap.add_argument("--baseline-repeat", type=int, default=1, help="best of N for scikit-image")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--y", action="store_true", help="also time the SR-paper Y convention")
    ap.add_argument("--skip-fidelity", action="store_true", help="skip PSNR/SSIM against scikit-image")
    ap.add_argument("--skip-new", action="store_true", help="skip the colour/artifact/perceptual/no-reference part")
    ap.add_argument("--perceptual-size", type=int, default=1024, help="side of the LPIPS-Alex crop (VGG: half)")
    args = ap.parse_args()

    test, ref = make_pair(args.height, args.width, args.seed)
    mp = args.height * args.width / 1e6
    print(f"image: {args.width}x{args.height}x3 float32 ({mp:.1f} MP)")
    ok = True

    cases = [] if args.skip_fidelity else [("RGB, [0,1]", ISP_PAPER)]
    if args.y and not args.skip_fidelity:
        cases.append(("Y, crop 4, uint8", SR_PAPER(4)))
    for label, conv in cases:
        ours, ow, oc = timed(lambda conv=conv: psnr_ssim(test, ref, conv), args.repeat)
        if conv.channel == "y":
            crop = conv.crop_border
            base, bw, bc = timed(lambda crop=crop: skimage_y_psnr_ssim(test, ref, crop), args.baseline_repeat)
        else:
            base, bw, bc = timed(lambda: skimage_psnr_ssim(test, ref, 1.0), args.baseline_repeat)
        dp, ds = abs(ours.psnr - base[0]), abs(ours.ssim - base[1])
        equal = dp <= 1e-4 and ds <= 1e-4
        ok &= equal
        print(f"\n[{label}]  {conv.describe()}")
        print(f"  scikit-image SSIM+PSNR : wall {bw:7.3f} s   cpu {bc:7.3f} s   "
              f"PSNR {base[0]:.6f} dB  SSIM {base[1]:.6f}")
        print(f"  isp_viewer psnr_ssim   : wall {ow:7.3f} s   cpu {oc:7.3f} s   "
              f"PSNR {ours.psnr:.6f} dB  SSIM {ours.ssim:.6f}")
        print(f"  speed-up               : wall x{bw / ow:.1f}   cpu x{bc / oc:.1f}")
        print(f"  values equal           : {'yes' if equal else 'NO'} (|dPSNR| {dp:.1e} dB, |dSSIM| {ds:.1e})")
    if not args.skip_new:
        from bench_new_metrics import run_new_metrics

        ok &= run_new_metrics(test, ref, args.perceptual_size)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
