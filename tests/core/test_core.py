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
    b = s.add_item("b", is_input=True)
    s.update_item(a.id, status="ready", image=Image(np.zeros((2, 2, 3))))
    assert s.reference_id == b.id                       # the first opened input, not the first ready pane
    assert not s.reference_chosen
    s.remove_item(b.id)
    assert s.reference_id is None and s.update_item(b.id, status="ready") is None   # stale result dropped
    assert seen[:2] == [("add", a.id), ("add", b.id)] and ("ref", b.id) in seen


def test_reference_is_an_explicit_choice_and_survives_removal_of_others():
    from isp_viewer.core.methods import FileMethod, LibRawOptions

    s = Session()
    first = s.add_item("first.dng", "/a.dng", LibRawOptions(), is_input=True)
    second = s.add_item("second.png", "/b.png", FileMethod(), is_input=True)
    net = s.add_item("net", "/a.dng")
    s.update_item(net.id, status="ready", image=Image(np.zeros((4, 4, 3))))   # ready first: still not the reference
    assert s.reference_id == first.id
    s.set_reference(second.id)
    assert s.reference_chosen and s.reference_id == second.id
    s.remove_item(second.id)
    assert s.reference_id == first.id and not s.reference_chosen


def test_removing_a_pane_removes_what_derives_from_it():
    s = Session()
    a = s.add_item("a", "/a.png", is_input=True)
    b = s.add_item("b", "/b.png", is_input=True)
    s.sources.update({"/a.png": object(), "/b.png": object()})
    s.set_analysis({a.id: "row a", b.id: "row b"}, {a.id: ("a", 1, 2), b.id: ("b", 1, 2)})
    changed = []
    s.analysis_changed.connect(lambda: changed.append(1))
    s.remove_item(b.id)
    assert list(s.metric_rows) == [a.id] and list(s.spectra) == [a.id]
    assert list(s.sources) == ["/a.png"] and changed


def test_pane_geometry_keeps_aspect_and_places_integer_scales():
    from isp_viewer.core.session import pane_geometry

    assert pane_geometry((400, 300), (100, 75)) == pane_geometry((100, 75), (100, 75))   # a x4 output
    g = pane_geometry((774, 522), (4128, 2176))
    assert abs((g.w / 774) / (g.h / 522) - 1.0) < 0.01   # its own aspect, no stretch
    assert g.w == 4128


def test_roi_is_moved_inside_the_reference():
    from isp_viewer.core.region import Region

    s = Session()
    ref = s.add_item("ref", is_input=True)
    s.update_item(ref.id, status="ready", image=Image(np.zeros((50, 100, 3))))
    s.set_roi(Region(90, -5, 20, 20))
    assert s.roi == Region(80, 0, 20, 20)
    s.set_roi(Region(0, 0, 500, 10))
    assert s.roi == Region(0, 0, 100, 10)


def test_session_file_reads_old_srgb_spelling_and_view_settings(tmp_path):
    import json

    from isp_viewer.core.methods import LibRawOptions
    from isp_viewer.export.session_file import load

    doc = {"format": "isp-viewer-session", "version": 1,
           "inputs": [{"id": "in1", "path": "a.dng", "kind": "raw"}], "reference": "",
           "methods": [{"id": "m1", "label": "LibRaw AHD", "kind": "libraw",
                        "options": {"demosaic": "AHD", "wb": "camera", "output": "sRGB", "bits": 16}}],
           "display": {"exposure": 0.5, "gamma": None, "view_mode": "abs", "viewport": [10, 20, 2.0]}}
    path = tmp_path / "old.ispv"
    path.write_text(json.dumps(doc))
    loaded = load(path)
    assert loaded.methods[0].options == LibRawOptions("AHD", "camera", "srgb", 16)
    assert loaded.display.view_mode == "abs" and loaded.display.viewport == (10.0, 20.0, 2.0)
