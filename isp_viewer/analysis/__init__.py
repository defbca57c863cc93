"""Per-pixel products to look at (no Qt): error maps, Fourier spectra, amplitude/phase swaps.

Arrays come with a suggested display range; colour is the UI's job. Inputs are `Image`s or
ndarrays (HxW or HxWx3, float in [0, 1]) already on the reference grid.
"""

from isp_viewer.analysis.error_maps import KINDS, ErrorMap, error_map, range_for, shared_range, with_shared_range
from isp_viewer.analysis.spectrum import (
                                            LUMINANCE_WEIGHTS,
                                            Spectrum,
                                            fft_view,
                                            luminance,
                                            peak_frequency,
                                            radial_power_spectrum,
                                            swap_amplitude_phase,
)

__all__ = [
                                            "KINDS",
                                            "LUMINANCE_WEIGHTS",
                                            "ErrorMap",
                                            "Spectrum",
                                            "error_map",
                                            "fft_view",
                                            "luminance",
                                            "peak_frequency",
                                            "radial_power_spectrum",
                                            "range_for",
                                            "shared_range",
                                            "swap_amplitude_phase",
                                            "with_shared_range",
]
