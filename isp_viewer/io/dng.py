"""Write a minimal uncompressed Bayer DNG (for benchmarks and tests that need large RAW files).

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
