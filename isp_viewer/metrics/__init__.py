"""Full-reference metrics with explicit conventions (no Qt).

Inputs: `Image` or ndarray, HxW or HxWx3; float arrays in [0, 1], uint8/uint16 as codes.
Every value is computed under a `Convention` whose `describe()` belongs beside the number.
"""

from isp_viewer.metrics.align import Alignment, align_to_reference
from isp_viewer.metrics.convention import ISP_PAPER, SR_PAPER, Convention, rgb_to_y
from isp_viewer.metrics.dataset import evaluate_pairs, match_by_name, normalized_stem, score_pair
from isp_viewer.metrics.fidelity import MS_SSIM_WEIGHTS, PsnrSsim, ms_ssim, psnr, psnr_ssim, ssim
from isp_viewer.metrics.flip import flip
from isp_viewer.metrics.table import MetricTable

__all__ = [
    "ISP_PAPER",
    "MS_SSIM_WEIGHTS",
    "SR_PAPER",
    "Alignment",
    "Convention",
    "MetricTable",
    "PsnrSsim",
    "align_to_reference",
    "evaluate_pairs",
    "flip",
    "match_by_name",
    "ms_ssim",
    "normalized_stem",
    "psnr",
    "psnr_ssim",
    "rgb_to_y",
    "score_pair",
    "ssim",
]
