"""The luminance FFT view of a 12 MP image: isp_viewer.analysis.fft_view against plain numpy.fft.

    python bench/fft.py [--height 3000 --width 4000 --repeat 3]

Both sides compute the same product: Rec. 709 luminance, mean removed, periodic 2-D Hann
window, log10 amplitude normalised by sqrt(sum(window^2)), fftshifted. The baseline does it
the obvious way (numpy, complex128 full fft2); ours uses a float32 real FFT on all cores and
Hermitian symmetry. Prints wall and CPU seconds, the ratio, and the largest difference of
the log amplitudes (must stay below 1e-3 where the amplitude is above 1e-4 of the peak).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import timed

from isp_viewer.analysis import LUMINANCE_WEIGHTS, fft_view


def numpy_fft_view(rgb: np.ndarray) -> np.ndarray:
    lum = rgb @ np.asarray(LUMINANCE_WEIGHTS, dtype=np.float32)
    h, w = lum.shape
    wy = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(h) / h)
    wx = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(w) / w)
    spec = np.fft.fft2((lum - lum.mean()) * np.outer(wy, wx))
    norm = np.sqrt(np.sum(wy ** 2) * np.sum(wx ** 2))
    return np.fft.fftshift(np.log10(np.abs(spec) / norm + 1e-6))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--height", type=int, default=3000)
    ap.add_argument("--width", type=int, default=4000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    h, w = args.height, args.width
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # A grating plus noise: a clear peak and a realistic spread of amplitudes.
    lum = 0.5 + 0.2 * np.cos(2 * np.pi * (0.1 * xx + 0.05 * yy))
    lum += 0.05 * rng.standard_normal((h, w), dtype=np.float32)
    rgb = np.repeat(lum[:, :, None], 3, axis=2).astype(np.float32)
    rgb[:, :, 0] *= np.float32(0.9)
    del yy, xx, lum
    print(f"image: {w}x{h}x3 float32 ({h * w / 1e6:.1f} MP)")

    base, bw, bc = timed(lambda: numpy_fft_view(rgb), 1)
    amp, ow, oc = timed(lambda: fft_view(rgb, with_phase=False), args.repeat)
    both, pw, pc = timed(lambda: fft_view(rgb, with_phase=True), args.repeat)

    strong = base > base.max() - 4  # amplitudes within 1e4 of the peak
    diff = float(np.abs(amp.log_amplitude - base)[strong].max())
    # The grating's two mirrored peaks are equal: any bin at the baseline's maximum will do.
    peak_ok = bool(base.flat[np.argmax(amp.log_amplitude)] >= base.max() - 1e-3)
    equal = diff < 1e-3 and peak_ok and np.array_equal(amp.log_amplitude, both.log_amplitude)

    print(f"  numpy.fft fft2 view          : wall {bw:6.3f} s   cpu {bc:6.3f} s")
    print(f"  fft_view (log amplitude)     : wall {ow:6.3f} s   cpu {oc:6.3f} s   "
          f"speed-up wall x{bw / ow:.1f}, cpu x{bc / oc:.1f}")
    print(f"  fft_view (amplitude + phase) : wall {pw:6.3f} s   cpu {pc:6.3f} s   "
          f"speed-up wall x{bw / pw:.1f}, cpu x{bc / pc:.1f}")
    print(f"  values equal                 : {'yes' if equal else 'NO'} "
          f"(max |d log10 amplitude| {diff:.1e} on {int(strong.sum())} strong bins, same peak: {peak_ok})")
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
