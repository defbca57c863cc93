"""Spectra: grating peaks, the Hermitian unfolding against a full FFT, white-noise flatness,
amplitude/phase swap round trips, regions."""

import numpy as np
import pytest

from isp_viewer.analysis import fft_view, luminance, peak_frequency, radial_power_spectrum, swap_amplitude_phase
from isp_viewer.analysis.spectrum import _hann
from isp_viewer.core.errors import InputError
from isp_viewer.core.region import Region


def _grating(h, w, fx, fy, phase=0.0):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    return (0.5 + 0.4 * np.cos(2 * np.pi * (fx * xx + fy * yy) + phase)).astype(np.float32)


@pytest.mark.parametrize("h, w, fx, fy", [(128, 160, 0.125, 0.0), (96, 96, 0.0, 0.25),
                                          (100, 120, 0.1, -0.2)])
def test_grating_peaks_at_its_frequency(h, w, fx, fy):
    s = fft_view(_grating(h, w, fx, fy))
    assert s.log_amplitude.shape == (h, w) and s.log_amplitude.dtype == np.float32
    px, py = peak_frequency(s)
    # A real cosine has two symmetric peaks; either is the grating.
    assert (px, py) in [pytest.approx((fx, fy), abs=1e-6), pytest.approx((-fx, -fy), abs=1e-6)]
    row, col = int(np.argmin(np.abs(s.freq_y - fy))), int(np.argmin(np.abs(s.freq_x - fx)))
    _, hi = s.suggested_range
    assert s.log_amplitude[row, col] == pytest.approx(hi, abs=1e-5)
    assert s.log_amplitude[h // 2, w // 2] < hi - 3  # the mean was removed


def test_rgb_channels_and_luminance():
    g = _grating(64, 64, 0.25, 0.0)
    rgb = np.stack([g, np.full_like(g, 0.5), _grating(64, 64, 0.0, 0.125)], axis=2)
    assert peak_frequency(fft_view(rgb, "r"))[0] in (0.25, -0.25)
    assert peak_frequency(fft_view(rgb, 2))[1] in (0.125, -0.125)
    assert fft_view(rgb, "b").channel == "b"
    assert np.allclose(luminance(rgb), 0.2126 * rgb[..., 0] + 0.7152 * rgb[..., 1] + 0.0722 * rgb[..., 2], atol=1e-6)
    with pytest.raises(InputError):
        fft_view(rgb, "alpha")


@pytest.mark.parametrize("h, w", [(32, 48), (33, 47), (31, 50)])
def test_unfolded_half_spectrum_equals_full_fft(h, w):
    img = np.random.default_rng(0).random((h, w), dtype=np.float32)
    s = fft_view(img)
    win = (img - img.mean()) * _hann(h)[:, None] * _hann(w)[None, :]
    full = np.fft.fftshift(np.fft.fft2(win.astype(np.float64)))
    norm = np.sqrt(np.sum(_hann(h).astype(np.float64) ** 2) * np.sum(_hann(w).astype(np.float64) ** 2))
    expected = np.log10(np.abs(full) / norm + 1e-6)
    assert np.abs(s.log_amplitude - expected).max() < 1e-4
    strong = np.abs(full) / norm > 1e-3  # phase is meaningless where there is no amplitude
    dphase = np.angle(np.exp(1j * (s.phase - np.angle(full))))
    assert np.abs(dphase[strong]).max() < 1e-3
    assert np.allclose(s.freq_x, np.fft.fftshift(np.fft.fftfreq(w)))
    assert s.freq_y[h // 2] == 0.0


def test_phase_follows_a_shift():
    a = fft_view(_grating(64, 64, 0.125, 0.0, phase=0.0))
    b = fft_view(_grating(64, 64, 0.125, 0.0, phase=np.pi / 2))
    col = int(np.argmin(np.abs(a.freq_x - 0.125)))
    d = np.angle(np.exp(1j * (b.phase[32, col] - a.phase[32, col])))
    assert d == pytest.approx(np.pi / 2, abs=1e-3)
    assert fft_view(_grating(8, 8, 0.25, 0), with_phase=False).phase is None


def test_white_noise_radial_spectrum_is_flat():
    sigma = 0.1
    noise = np.random.default_rng(5).normal(0.5, sigma, (256, 256)).astype(np.float32)
    freq, power = radial_power_spectrum(noise)
    assert freq.min() > 0 and freq.max() <= 0.5 and np.all(np.diff(freq) > 0)
    assert len(freq) == 128
    body = power[freq > 0.05]
    assert np.median(body) == pytest.approx(sigma ** 2, rel=0.05)
    assert body.min() > 0.6 * sigma ** 2 and body.max() < 1.4 * sigma ** 2


def test_radial_spectrum_of_a_grating_peaks_at_its_radius():
    freq, power = radial_power_spectrum(_grating(128, 128, 0.15, 0.2))
    assert freq[np.argmax(power)] == pytest.approx(0.25, abs=1 / 128)


def test_amplitude_phase_swap_round_trip_is_exact():
    rng = np.random.default_rng(6)
    a = rng.random((40, 52, 3), dtype=np.float32)
    b = rng.random((40, 52, 3), dtype=np.float32)
    ab, ba = swap_amplitude_phase(a, b)
    assert ab.shape == a.shape and ab.dtype == np.float32
    assert not np.allclose(ab, a, atol=1e-2)
    # amplitude of a, phase of b
    fa, fab = np.fft.fft2(a, axes=(0, 1)), np.fft.fft2(ab.astype(np.float64), axes=(0, 1))
    fb = np.fft.fft2(b, axes=(0, 1))
    assert np.allclose(np.abs(fab), np.abs(fa), rtol=1e-4, atol=1e-4)
    assert np.allclose(np.exp(1j * np.angle(fab)), np.exp(1j * np.angle(fb)), atol=1e-4)
    back_a, back_b = swap_amplitude_phase(ab, ba)
    assert np.abs(back_a - a).max() < 1e-5 and np.abs(back_b - b).max() < 1e-5
    same, _ = swap_amplitude_phase(a, a)
    assert np.abs(same - a).max() < 1e-5


def test_swap_odd_sizes_and_sizes_must_match():
    rng = np.random.default_rng(7)
    a, b = rng.random((33, 35), dtype=np.float32), rng.random((33, 35), dtype=np.float32)
    back, _ = swap_amplitude_phase(*swap_amplitude_phase(a, b))
    assert back.shape == (33, 35, 1) and np.abs(back[:, :, 0] - a).max() < 1e-5
    with pytest.raises(InputError):
        swap_amplitude_phase(a, b[:30])


def test_region_spectra_equal_spectra_of_the_crop():
    img = np.random.default_rng(8).random((70, 90, 3), dtype=np.float32)
    region = Region(11, 5, 48, 40)
    crop = region.crop(img)
    a, b = fft_view(img, region=region), fft_view(crop)
    assert np.array_equal(a.log_amplitude, b.log_amplitude) and np.array_equal(a.phase, b.phase)
    fa, pa = radial_power_spectrum(img, "g", region=region)
    fb, pb = radial_power_spectrum(crop, "g")
    assert np.array_equal(fa, fb) and np.array_equal(pa, pb)
    other = np.random.default_rng(9).random((70, 90, 3), dtype=np.float32)
    sa = swap_amplitude_phase(img, other, region=region)
    sb = swap_amplitude_phase(crop, region.crop(other))
    assert np.array_equal(sa[0], sb[0]) and np.array_equal(sa[1], sb[1])
