"""Fourier views of an image: log-amplitude and phase, radial power spectrum, amplitude/phase swap.

Frequencies are in cycles per pixel: fx along columns, fy along rows, both in [-0.5, 0.5).
Spectra are fftshifted, so the zero frequency sits at (row H // 2, column W // 2).

Analysis spectra (`fft_view`, `radial_power_spectrum`) subtract the mean and apply a periodic
2-D Hann window before the transform, so image borders do not add a false cross of energy,
and are normalised by sqrt(sum(window^2)): white noise of standard deviation s then has an
amplitude of about s and a power of s^2 at every frequency, whatever the image size.
The amplitude/phase swap uses no window, so that swapping back returns the inputs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np

from isp_viewer.analysis._inputs import ArrayLike, as_array, crop, sample
from isp_viewer.core.errors import InputError
from isp_viewer.core.region import Region

# Rec. 709 / sRGB relative-luminance weights, applied to the values as given.
LUMINANCE_WEIGHTS = (0.2126, 0.7152, 0.0722)
_CHANNEL_NAMES = {"r": 0, "g": 1, "b": 2}
# Keeps log10 finite where the (mean-removed) spectrum is exactly zero.
_AMPLITUDE_FLOOR = 1e-6
ChannelSpec = str | int


@dataclass(frozen=True, eq=False)
class Spectrum:
    """fftshifted log10 amplitude (HxW float32) and phase (HxW float32 in [-pi, pi], or None).

    freq_x (W,) and freq_y (H,) give the frequency of each column and row in cycles/pixel.
    suggested_range: a display range for the log amplitude.
    """

    log_amplitude: np.ndarray
    phase: np.ndarray | None
    freq_x: np.ndarray
    freq_y: np.ndarray
    suggested_range: tuple[float, float]
    channel: str


def fft_view(image: ArrayLike, channel: ChannelSpec = "luminance", region: Region | None = None,
             with_phase: bool = True) -> Spectrum:
    """Hann-windowed 2-D spectrum of one channel ("luminance", "r", "g", "b" or an index).

    Uses a real FFT (scipy.fft.rfft2, float32, all cores) and fills the other half of the
    plane from Hermitian symmetry: |F(-k)| = |F(k)| and arg F(-k) = -arg F(k).
    """
    import scipy.fft  # loaded on first use: the window opens without scipy

    plane, name = _plane(image, channel, region)
    h, w = plane.shape
    spec = scipy.fft.rfft2(_windowed(plane), workers=_workers())
    norm = np.float32(1.0 / _window_energy(h, w) ** 0.5)
    amp = np.abs(spec)
    amp *= norm
    amp += np.float32(_AMPLITUDE_FLOOR)
    log_amp = np.log10(amp, out=amp)
    full = np.fft.fftshift(_unfold(log_amp, w, odd=False))
    phase = np.fft.fftshift(_unfold(np.angle(spec), w, odd=True)) if with_phase else None
    values = sample(log_amp)
    lo = float(np.percentile(values, 1.0)) if values.size else 0.0
    hi = float(np.nanmax(log_amp))  # the peak itself, which a subsample could miss
    return Spectrum(full, phase, _shifted_freqs(w), _shifted_freqs(h), (lo, max(hi, lo + 1e-6)), name)


def radial_power_spectrum(image: ArrayLike, channel: ChannelSpec = "luminance",
                          region: Region | None = None, n_bins: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Azimuthally averaged power spectrum: (frequency in cycles/pixel, mean power), float64.

    Bins of equal width cover radii [0, 0.5] (corner frequencies beyond Nyquist are left
    out); `n_bins` defaults to min(H, W) // 2. Empty bins are dropped.
    """
    import scipy.fft

    plane, _ = _plane(image, channel, region)
    h, w = plane.shape
    if min(h, w) < 4:
        raise InputError(f"A radial spectrum needs at least 4x4 pixels, got {w}x{h}")
    spec = scipy.fft.rfft2(_windowed(plane), workers=_workers())
    power = (spec.real.astype(np.float64) ** 2 + spec.imag.astype(np.float64) ** 2) / _window_energy(h, w)
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    radius = np.sqrt(fx * fx + fy * fy)
    # The half plane holds every column but 0 (and W/2 for even W) once for two frequencies.
    weight = np.full(fx.shape, 2.0)
    weight[0, 0] = 1.0
    if w % 2 == 0:
        weight[0, -1] = 1.0
    weight = np.broadcast_to(weight, radius.shape)
    bins = n_bins or min(h, w) // 2
    keep = radius <= 0.5
    index = np.minimum((radius[keep] * (2 * bins)).astype(np.int64), bins - 1)
    wsum = np.bincount(index, weights=weight[keep], minlength=bins)
    psum = np.bincount(index, weights=(power * weight)[keep], minlength=bins)
    centres = (np.arange(bins) + 0.5) / (2 * bins)
    filled = wsum > 0
    return centres[filled], psum[filled] / wsum[filled]


def swap_amplitude_phase(a: ArrayLike, b: ArrayLike, region: Region | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(amplitude of a with phase of b, amplitude of b with phase of a), HxWxC float32 per channel.

    No window, no clipping (results may leave [0, 1]; the display clips). Swapping the two
    results again returns a and b, up to float32 rounding, wherever neither amplitude is zero.
    """
    x = crop(as_array(a, "first image"), region, "first image")
    y = crop(as_array(b, "second image"), region, "second image")
    if x.shape[:2] != y.shape[:2]:
        raise InputError(f"Amplitude/phase swap needs images of one size, got "
                         f"{x.shape[1]}x{x.shape[0]} and {y.shape[1]}x{y.shape[0]}")
    if x.shape[2] != y.shape[2]:
        x, y = (np.repeat(x, 3, axis=2), y) if x.shape[2] == 1 else (x, np.repeat(y, 3, axis=2))
    c = x.shape[2]
    a_with_b = np.empty(x.shape, np.float32)
    b_with_a = np.empty(x.shape, np.float32)
    for k in range(c):  # one channel at a time: a 12 MP float64 spectrum is ~200 MB
        a_with_b[:, :, k], b_with_a[:, :, k] = _swap_plane(x[:, :, k], y[:, :, k])
    return a_with_b, b_with_a


def _swap_plane(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import scipy.fft

    h, w = x.shape
    # float64 so that swapping back is exact to float32 precision.
    fa = scipy.fft.rfft2(x.astype(np.float64), workers=_workers())
    fb = scipy.fft.rfft2(y.astype(np.float64), workers=_workers())
    amp_a, amp_b = np.abs(fa), np.abs(fb)
    _to_unit_phase(fa, amp_a)
    _to_unit_phase(fb, amp_b)
    fb *= amp_a  # amplitude of a, phase of b
    fa *= amp_b  # amplitude of b, phase of a
    return (scipy.fft.irfft2(fb, s=(h, w), workers=_workers()),
            scipy.fft.irfft2(fa, s=(h, w), workers=_workers()))


def _to_unit_phase(spec: np.ndarray, amp: np.ndarray) -> None:
    """spec / |spec| in place; exp(i * 0) = 1 where the amplitude is zero (np.angle's convention)."""
    nonzero = amp > 0
    np.divide(spec, amp, out=spec, where=nonzero)
    spec[~nonzero] = 1.0


def luminance(rgb: np.ndarray) -> np.ndarray:
    """HxW float32 Rec. 709 luminance of HxWx3 values (a grey HxWx1 input is returned as HxW)."""
    if rgb.shape[2] == 1:
        return rgb[:, :, 0]
    weights = np.array([LUMINANCE_WEIGHTS], dtype=np.float32)
    return cv2.transform(np.ascontiguousarray(rgb, dtype=np.float32), weights)


def _plane(image: ArrayLike, channel: ChannelSpec, region: Region | None) -> tuple[np.ndarray, str]:
    arr = crop(as_array(image), region)
    if channel == "luminance":
        return luminance(arr), "luminance"
    index = _CHANNEL_NAMES.get(channel, channel) if isinstance(channel, str) else channel
    if not isinstance(index, (int, np.integer)) or not 0 <= index < arr.shape[2]:
        raise InputError(f"Channel {channel!r} does not exist in a {arr.shape[2]}-channel image")
    return arr[:, :, index], "rgb"[index] if arr.shape[2] == 3 else "grey"


def _hann(n: int) -> np.ndarray:
    """Periodic Hann window (the DFT-even form used for spectral analysis)."""
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)).astype(np.float32)


def _window_energy(h: int, w: int) -> float:
    return float(np.sum(_hann(h).astype(np.float64) ** 2) * np.sum(_hann(w).astype(np.float64) ** 2))


def _windowed(plane: np.ndarray) -> np.ndarray:
    h, w = plane.shape
    if min(h, w) < 2:
        raise InputError(f"A spectrum needs at least 2x2 pixels, got {w}x{h}")
    mean = np.float32(cv2.mean(np.ascontiguousarray(plane))[0])
    out = plane - mean
    out *= _hann(h)[:, None]
    out *= _hann(w)[None, :]
    return out


def _unfold(half: np.ndarray, w: int, odd: bool) -> np.ndarray:
    """Full HxW plane from the rfft half plane (H x (W//2 + 1)) of a real signal.

    F[ky, kx] = conj(F[-ky mod H, W - kx]) for the missing columns: amplitudes are mirrored,
    phases mirrored and negated (`odd`).
    """
    h, wh = half.shape
    full = np.empty((h, w), dtype=half.dtype)
    full[:, :wh] = half
    n_missing = w - wh
    if n_missing:
        mirrored = full[:, wh:]
        mirrored[0] = half[0, n_missing:0:-1]
        mirrored[1:] = half[:0:-1, n_missing:0:-1]
        if odd:
            np.negative(mirrored, out=mirrored)
    return full


def _shifted_freqs(n: int) -> np.ndarray:
    return np.fft.fftshift(np.fft.fftfreq(n)).astype(np.float32)


def _workers() -> int:
    return os.cpu_count() or 1


def peak_frequency(spectrum: Spectrum, exclude_dc: bool = True) -> tuple[float, float]:
    """(fx, fy) in cycles/pixel of the strongest component of a spectrum."""
    amp = spectrum.log_amplitude
    if exclude_dc:
        amp = amp.copy()
        amp[amp.shape[0] // 2, amp.shape[1] // 2] = -np.inf
    row, col = np.unravel_index(int(np.argmax(amp)), amp.shape)
    return float(spectrum.freq_x[col]), float(spectrum.freq_y[row])

