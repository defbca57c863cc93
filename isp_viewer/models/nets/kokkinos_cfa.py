"""What the Kokkinos & Lefkimmiatis network eats, and the noise level it is given.

Facts: reference kokkinos/FACTS.md §2-4 and §6 (upstream cig-skoltech/deep_demosaick @ 3ba7b86, MIT).

* The network works on [0, 255] values and a 3-channel masked mosaic y = M * cfa with its mask M
  (channel 0 R, 1 G, 2 B; one 1 per pixel), anchored at pixel (0, 0): RGGB for the Bayer models,
  and upstream's 6x6 cell (`XTRANS_LAYOUT`) for the X-Trans model.
* Other phases are moved to that anchor by padding the mosaic on the top/left (and cropped
  back afterwards), never by rolling: a roll wraps the far edge round (upstream's notebook rolls,
  and its GRBG case rolls by zero columns, so GRBG data is run as if it were RGGB).
* X-Trans labelling: the shipped X-Trans weights give right colours only when the sites
  upstream's mask calls "R" hold the scene's blue and the "B" sites its red (FACTS.md §2, and
  measured here on Kodak, see the spec's notes). `labelling="swapped"` (the product) builds the
  mask that way; `labelling="literal"` is upstream's function as written (golden fixtures).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from isp_viewer.core.errors import ModelError
from isp_viewer.models.nets._bayer import TRAINED_XTRANS_CELL

BAYER_ANCHOR = "RGGB"
XTRANS_LAYOUT = TRAINED_XTRANS_CELL  # upstream utils.generate_mask 'xtrans', rows of the 6x6 cell from (0, 0)
LABELLINGS = ("swapped", "literal")
CHANNEL_OF = {"R": 0, "G": 1, "B": 2}
WMAD_SCALE = 0.6745          # median(|x|) / 0.6745 estimates the std of Gaussian noise


def _cell(cfa: str) -> np.ndarray:
    n = round(len(cfa) ** 0.5)
    if n * n != len(cfa) or set(cfa.upper()) - set("RGB"):
        raise ModelError(f"CFA pattern '{cfa}' is not a square cell of R, G, B letters")
    return np.array(list(cfa.upper())).reshape(n, n)


def swap_red_blue(cfa: str) -> str:
    return cfa.upper().translate(str.maketrans("RB", "BR"))


def anchor_offset(cfa: str, anchor: str) -> tuple[int, int] | None:
    """(dy, dx) such that padding the mosaic by dy rows on top and dx columns on the left puts
    a copy of `anchor`'s cell at pixel (0, 0), or None when cfa is no shifted copy of it."""
    got, want = _cell(cfa), _cell(anchor)
    if got.shape != want.shape:
        return None
    n = want.shape[0]
    for dy in range(n):
        for dx in range(n):
            # padded pixel (y, x) is input pixel (y - dy, x - dx)
            if np.array_equal(np.roll(got, (dy, dx), axis=(0, 1)), want):
                return dy, dx
    return None


def label_cell(cfa: str, labelling: str = "swapped") -> str:
    """The cell of mask labels for a true-colour CFA: itself for Bayer; for X-Trans R and B are
    swapped unless labelling is 'literal'."""
    if labelling not in LABELLINGS:
        raise ModelError(f"X-Trans labelling must be one of {LABELLINGS}, not {labelling!r}")
    if len(cfa) == 36 and labelling == "swapped":
        return swap_red_blue(cfa)
    return cfa.upper()


def _pad_index(n: int, before: int, after: int, period: int) -> np.ndarray:
    """Source index of each position of an axis padded so that the CFA phase is kept.

    period 2 (Bayer): numpy 'reflect' (mirror about the edge pixel keeps parity).
    period 6 (X-Trans): a mirror breaks the cell, so a padded pixel copies the pixel a whole
    number of cells further in (same colour, a few pixels away).
    """
    idx = np.arange(-before, n + after)
    if period == 2:
        for _ in range(64):
            if not ((idx < 0) | (idx >= n)).any():
                return idx
            idx = np.where(idx < 0, -idx, idx)
            idx = np.where(idx >= n, 2 * (n - 1) - idx, idx)
        raise ModelError(f"cannot pad an image side of {n} px")
    if n < period:
        raise ModelError(f"an X-Trans mosaic needs at least {period} px per side, this one has {n}")
    low = idx < 0
    idx = np.where(low, idx + period * (-(idx // period)), idx)
    high = idx >= n
    return np.where(high, idx - period * ((idx - n) // period + 1), idx)


def pad_mosaic(mosaic: np.ndarray, top: int, left: int, bottom: int, right: int, period: int) -> np.ndarray:
    h, w = mosaic.shape
    rows = _pad_index(h, top, bottom, period)
    cols = _pad_index(w, left, right, period)
    return mosaic[rows[:, None], cols[None, :]]


def mask_for(layout: str, h: int, w: int) -> np.ndarray:
    """3xHxW float32 {0,1} mask of a cell `layout` repeated from pixel (0, 0)."""
    cell = _cell(layout)
    n = cell.shape[0]
    letters = cell[np.arange(h)[:, None] % n, np.arange(w)[None, :] % n]
    return np.stack([(letters == c).astype(np.float32) for c in "RGB"])


def masked_mosaic(mosaic255: np.ndarray, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """(y, M), each 3xHxW float32: y = M * mosaic (values as given, e.g. [0, 255])."""
    m = mask_for(layout, *mosaic255.shape)
    return (m * mosaic255[None]).astype(np.float32), m


# --- initial estimate ---------------------------------------------------------------------------


def bilinear_init(y: torch.Tensor) -> torch.Tensor:
    """Per-channel 3x3 interpolation of the masked mosaic (N,3,H,W), zero padding, no border
    normalisation (border pixels come out darker, as upstream's)."""
    rb = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 4
    g = torch.tensor([[0.0, 1.0, 0.0], [1.0, 4.0, 1.0], [0.0, 1.0, 0.0]]) / 4
    kernel = torch.stack([rb, g, rb])[:, None].to(device=y.device, dtype=y.dtype)
    return F.conv2d(y, kernel, padding=1, groups=3)


# --- noise level --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _db7_highpass() -> tuple[float, ...]:
    import pywt

    return tuple(pywt.Wavelet("db7").dec_hi)


def wmad_sigma(y: torch.Tensor) -> torch.Tensor:
    """Noise std (same units as y) of each image of a masked mosaic (N,3,H,W), shape (N,).

    The wavelet MAD estimator upstream uses: the HH band of one db7 level (reflect padding by 7,
    stride 2 along rows then columns) of the 2-D CFA, median(|HH|) / 0.6745 (lower median).
    Taken on the mosaic, so colour structure counts as noise: it overestimates on natural
    images (FACTS.md §4), which is also how the noisy model was trained.
    """
    s = y.sum(dim=1, keepdim=True)
    scaled = bool(y.max() > 1)
    if scaled:                    # upstream works in [0, 1] here; the estimate scales back
        s = s / 255
    h = torch.tensor(_db7_highpass(), dtype=torch.float32).to(device=s.device, dtype=s.dtype)
    taps = h.numel()
    pad = taps // 2
    kernel = h.view(1, 1, taps, 1)
    rows = F.conv2d(F.pad(s, (0, 0, pad, pad), mode="reflect"), kernel, stride=(2, 1))
    cols = F.pad(rows, (pad, pad, 0, 0), mode="reflect").transpose(2, 3)
    hh = F.conv2d(cols, kernel, stride=(2, 1))
    sigma = hh.abs().flatten(1).median(dim=1).values / WMAD_SCALE
    return sigma * 255 if scaled else sigma
