import numpy as np
import pytest

from isp_viewer.analysis.colour_maps import COLOUR_KINDS, colour_map
from isp_viewer.metrics.artifacts import ZIPPER_THRESHOLD


def _pair():
    rng = np.random.default_rng(3)
    ref = rng.random((20, 24, 3)).astype(np.float32)
    return np.clip(ref + rng.normal(0, 0.05, ref.shape).astype(np.float32), 0, 1), ref


@pytest.mark.parametrize("kind", COLOUR_KINDS)
def test_each_colour_map_has_the_image_shape_and_a_range(kind):
    test, ref = _pair()
    m = colour_map(test, ref, kind)
    assert m.data.shape == (20, 24) and m.kind == kind and not m.diverging
    lo, hi = m.suggested_range
    assert lo == 0.0 and hi >= 1.0 and m.label
    if kind == "zipper":
        assert hi == 2 * ZIPPER_THRESHOLD
    else:
        assert hi == pytest.approx(max(1.0, float(np.percentile(m.data, 99))), rel=1e-5)
    assert colour_map(ref, ref, kind).data.max() == 0.0


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        colour_map(*_pair(), "bogus")
