"""Write minimal uncompressed DNGs (Bayer or 3-channel linear) for benchmarks and tests that need RAW files.

Only the tags LibRaw needs: CFA layout, black/white levels, a colour matrix and the as-shot
neutral. Written with tifffile (a scikit-image dependency).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_CFA_CODES = {"R": 0, "G": 1, "B": 2}


def write_bayer_dng(path: str | Path, mosaic: np.ndarray, cfa: str = "RGGB", black: int = 0,
                    white: int = 65535, make: str = "ISP Viewer", model: str = "Synthetic") -> Path:
    import tifffile

    path = Path(path)
    mosaic = np.ascontiguousarray(mosaic, np.uint16)
    pattern = bytes(_CFA_CODES[c] for c in cfa)
    matrix = [(1, 1), (0, 1), (0, 1), (0, 1), (1, 1), (0, 1), (0, 1), (0, 1), (1, 1)]  # XYZ->camera, identity
    extratags = [
        (271, "s", 0, make, True),                   # Make
        (272, "s", 0, model, True),                  # Model
        (33421, "H", 2, (2, 2), True),               # CFARepeatPatternDim
        (33422, "B", 4, pattern, True),              # CFAPattern
        (50706, "B", 4, (1, 4, 0, 0), True),         # DNGVersion
        (50708, "s", 0, f"{make} {model}", True),    # UniqueCameraModel
        (50714, "H", 1, (black,), True),             # BlackLevel
        (50717, "H", 1, (white,), True),             # WhiteLevel
        (50721, "2i", 9, [v for pair in matrix for v in pair], True),   # ColorMatrix1 (SRATIONAL)
        (50728, "2I", 3, (1, 1, 1, 1, 1, 1), True),  # AsShotNeutral
    ]
    tifffile.imwrite(path, mosaic, photometric=32803, extratags=extratags, compression=None,
                     metadata=None, subfiletype=0)
    return path


# XYZ (D65) -> linear sRGB: as a DNG ColorMatrix1 it makes LibRaw's camera RGB equal linear sRGB.
_XYZ_TO_SRGB = ((3.2404542, -1.5371385, -0.4985314), (-0.9692660, 1.8760108, 0.0415560),
                (0.0556434, -0.2040259, 1.0572252))


def write_linear_dng(path: str | Path, rgb: np.ndarray, white: int = 65535, make: str = "ISP Viewer",
                     model: str = "Synthetic scan") -> Path:
    """A 3-channel LinearRaw DNG (already demosaiced, like film scans) whose stated WhiteLevel is `white`.

    rgb: HxWx3 uint16 linear sRGB codes; LibRaw develops it back to rgb / white (unclipped when
    the white level fits the data).
    """
    import tifffile

    path = Path(path)
    rgb = np.ascontiguousarray(rgb, np.uint16)
    matrix = [v for row in _XYZ_TO_SRGB for c in row for v in (round(c * 10000), 10000)]
    extratags = [
        (271, "s", 0, make, True),
        (272, "s", 0, model, True),
        (50706, "B", 4, (1, 4, 0, 0), True),
        (50708, "s", 0, f"{make} {model}", True),
        (50717, "H", 3, (white,) * 3, True),
        (50721, "2i", 9, matrix, True),
        (50728, "2I", 3, (1, 1, 1, 1, 1, 1), True),
    ]
    tifffile.imwrite(path, rgb, photometric=34892, planarconfig="contig", extratags=extratags,  # LinearRaw
                     compression=None, metadata=None, subfiletype=0)
    return path
