"""Core values: Image convention, Region geometry, the evented Session."""

from __future__ import annotations

import numpy as np
import pytest

from isp_viewer.core.errors import InputError, IspViewerError
from isp_viewer.core.image import Image, as_unit_array, linear_to_srgb, srgb_to_linear
from isp_viewer.core.region import Region
from isp_viewer.core.session import Session


def test_image_is_frozen_float32_hwc():
    img = Image(np.zeros((4, 5), np.uint8) + 255)
    assert img.shape == (4, 5, 1) and img.data.dtype == np.float32 and not img.data.flags.writeable
    assert img.rgb().shape == (4, 5, 3)
    with pytest.raises(ValueError):
        Image(np.zeros((4, 5, 2)))


def test_display_encodes_linear_images_and_exposure():
    lin = Image(np.full((1, 1, 3), 0.18, np.float32), linear=True)
    assert lin.to_display()[0, 0, 0] == round(float(linear_to_srgb(np.float32(0.18))) * 255)
    assert lin.to_display(exposure=1.0)[0, 0, 0] == round(float(linear_to_srgb(np.float32(0.36))) * 255)
    assert Image(np.full((1, 1, 3), 0.5, np.float32)).to_display()[0, 0, 0] == 128
    x = np.linspace(0, 1, 50, dtype=np.float32)
    assert np.allclose(srgb_to_linear(linear_to_srgb(x)), x, atol=1e-6)


def test_as_unit_array_scales_integer_codes():
    assert as_unit_array(np.full((2, 2), 65535, np.uint16))[0, 0, 0] == 1.0
    assert as_unit_array(np.full((2, 2, 3), 51, np.uint8))[0, 0, 0] == pytest.approx(0.2)
    with pytest.raises(InputError):
        as_unit_array(np.zeros((2, 2), np.int32))


def test_region_geometry():
    a, b = Region(10, 20, 30, 40), Region(30, 50, 30, 40)
    assert a.intersect(b) == Region(30, 50, 10, 10)
    assert a.scale(4) == Region(40, 80, 120, 160) and a.pad(2) == Region(8, 18, 34, 44)
    arr = np.arange(100 * 100).reshape(100, 100)
    assert a.crop(arr)[0, 0] == arr[20, 10] and a.crop(arr).shape == (40, 30)
    assert Region(90, 90, 20, 20).crop_inside(arr).shape == (10, 10)
    with pytest.raises(InputError, match="outside"):
        Region(200, 200, 5, 5).crop_inside(arr)


def test_errors_are_one_line():
    assert str(IspViewerError("a\nb   c")) == "a b c"


def test_session_events_and_reference():
    s = Session()
    seen = []
    s.item_added.connect(lambda it: seen.append(("add", it.id)))
    s.item_changed.connect(lambda it: seen.append(("change", it.status)))
    s.reference_changed.connect(lambda rid: seen.append(("ref", rid)))
    a = s.add_item("a")
    b = s.add_item("b")
    s.update_item(b.id, status="ready", image=Image(np.zeros((2, 2, 3))))
    assert s.reference_id == b.id                       # the first ready item becomes the reference
    s.remove_item(b.id)
    assert s.reference_id is None and s.update_item(b.id, status="ready") is None   # stale result dropped
    assert seen[:2] == [("add", a.id), ("add", b.id)] and ("ref", b.id) in seen
