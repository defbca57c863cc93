"""Zipper and false colour on a synthetic edge: bilinear zippers, Menon (2007) does not."""

import cv2
import numpy as np
import pytest

from isp_viewer.core.region import Region
from isp_viewer.io.develop import colour_demosaicing
from isp_viewer.io.images import mosaic_from_rgb
from isp_viewer.metrics.artifacts import ZIPPER_THRESHOLD, edge_mask, false_colour, zipper

INNER = Region(4, 4, 24, 24)  # leaves out the demosaics' own border handling


def _edge_and_demosaics():
    _, xx = np.mgrid[:32, :32]
    img = np.full((32, 32, 3), 0.2, np.float32)
    img[xx >= 15] = 0.8
    img = cv2.GaussianBlur(img, (0, 0), 1.0)  # a lens-blurred grey vertical edge
    mosaic = mosaic_from_rgb(img, "RGGB")
    cd = colour_demosaicing()
    out = {name: np.clip(f(mosaic, "RGGB"), 0, 1).astype(np.float32) for name, f in
           [("bilinear", cd.demosaicing_CFA_Bayer_bilinear), ("menon", cd.demosaicing_CFA_Bayer_Menon2007)]}
    return img, out


def test_bilinear_zippers_along_an_edge_and_menon_does_not():
    img, out = _edge_and_demosaics()
    bil, men = zipper(out["bilinear"], img, INNER), zipper(out["menon"], img, INNER)
    assert bil.percent > 10.0 and men.percent < 1.0
    cols = np.nonzero(bil.mask.any(axis=0))[0] + INNER.x
    assert set(cols) <= set(range(12, 19))  # only next to the edge at x = 15
    assert bil.phi.max() > ZIPPER_THRESHOLD and bil.mask.shape == (24, 24)


def test_zipper_is_zero_for_a_perfect_result():
    img, _ = _edge_and_demosaics()
    z = zipper(img, img)
    assert z.percent == 0.0 and float(np.abs(z.phi).max()) == 0.0


def test_false_colour_counts_chroma_only_and_edges_concentrate_it():
    img, out = _edge_and_demosaics()
    assert false_colour(out["bilinear"], img, INNER, edges_only=True) > 2 * false_colour(out["bilinear"], img, INNER)
    assert false_colour(out["menon"], img, INNER) < 0.1 < false_colour(out["bilinear"], img, INNER)
    brighter = np.clip(img * 1.1, 0, 1)  # a pure lightness change of a grey image: no false colour
    assert false_colour(brighter, img) == pytest.approx(0.0, abs=0.02)
    mask = edge_mask(img)
    assert mask[:, 15].all() and not mask[:, :8].any()


def test_edges_only_is_nan_without_edges():
    flat = np.full((16, 16, 3), 0.5, np.float32)
    assert np.isnan(false_colour(flat, flat, edges_only=True))
