"""Study design: validation, reproducible per-observer orders, JSON and .ispstudy round trips."""

from __future__ import annotations

import json
import zipfile
from collections import Counter
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from isp_viewer.core.errors import InputError
from isp_viewer.core.region import Region
from isp_viewer.study.crops import Crop
from isp_viewer.study.design import (
    Method,
    Protocol,
    ReferenceMode,
    StudyDesign,
    TrainingItem,
    presentation_order,
    to_display_uint8,
    zoom_nearest,
)
from isp_viewer.study.package import load_study, save_study

CROPS = (Crop("c1", "fence", Region(0, 0, 6, 4), "moiré", "railings", 1.0, 2.0),
         Crop("c2", "sky", Region(10, 5, 5, 3), "noise"))
TRAIN = Crop("t1", "practice", Region(20, 20, 4, 4))
METHODS = (Method("pynet", "PyNET"), Method("dm", "DemosaicNet"), Method("bl", "Bilinear"))
GT = Method("gt", "Ground truth")


def provider(method_id: str, region: Region) -> np.ndarray:
    """Distinct, deterministic pixels per method and region."""
    seed = sum(map(ord, method_id)) * 1000 + region.x * 31 + region.y
    return np.random.default_rng(seed).random((region.h, region.w, 3), dtype=np.float32)


def test_presentation_order_is_reproducible_and_differs_between_observers() -> None:
    d = StudyDesign(CROPS, METHODS, repetitions=2, seed=7)
    a1, a2 = presentation_order(d, "alice"), presentation_order(d, "alice")
    b = presentation_order(d, "bob")
    assert a1 == a2
    assert [t.stimulus for t in a1] != [t.stimulus for t in b]
    # Every crop x method appears exactly `repetitions` times, nothing else.
    expected = Counter({f"{c.id}/{m.id}": 2 for c in CROPS for m in METHODS})
    assert Counter(t.stimulus for t in a1) == expected == Counter(t.stimulus for t in b)
    assert [t.index for t in a1] == list(range(12)) == list(range(d.n_test_trials))
    assert all(x.stimulus != y.stimulus for x, y in pairwise(a1))  # repeats never back to back
    # The seed matters too.
    assert [t.stimulus for t in presentation_order(replace(d, seed=8, study_id=""), "alice")] != \
        [t.stimulus for t in a1]


def test_order_is_pinned_across_machines() -> None:
    """The order depends only on sha256 and Python's guaranteed random() stream: pin it."""
    d = StudyDesign(CROPS, METHODS[:2], seed=1)
    assert [t.stimulus for t in presentation_order(d, "obs-1")] == \
        [t.stimulus for t in presentation_order(StudyDesign.from_json(d.to_json()), "obs-1")]
    # Pinned values: if these change, studies already run on other machines can no longer be replayed.
    assert [t.stimulus for t in presentation_order(d, "obs-1")] == ["c1/pynet", "c2/pynet", "c1/dm", "c2/dm"]
    assert [t.stimulus for t in presentation_order(d, "obs-2")] == ["c1/dm", "c2/pynet", "c1/pynet", "c2/dm"]


def test_pairwise_order_balances_sides_over_repetitions() -> None:
    d = StudyDesign(CROPS, METHODS, protocol=Protocol.PAIRWISE, repetitions=2, seed=3)
    order = presentation_order(d, "x")
    assert len(order) == d.n_test_trials == 2 * 3 * 2  # crops x pairs x repetitions
    by_stimulus: dict[str, list[tuple[str, str]]] = {}
    for t in order:
        by_stimulus.setdefault(t.stimulus, []).append((t.method_id, t.method_b))
    for sides in by_stimulus.values():
        assert len(sides) == 2 and sides[0] == sides[1][::-1]  # once on each side


def test_training_comes_first_and_hidden_reference_is_rated() -> None:
    d = StudyDesign(CROPS, METHODS, reference=GT, reference_mode=ReferenceMode.HIDDEN,
                    training=(TrainingItem("t1", "bl"), TrainingItem("t1", "gt")), training_crops=(TRAIN,))
    assert d.conditions == ("pynet", "dm", "bl", "gt")
    order = presentation_order(d, "o")
    assert [(t.crop_id, t.method_id, t.training) for t in order[:2]] == [("t1", "bl", True), ("t1", "gt", True)]
    assert not any(t.training for t in order[2:]) and len(order) == 2 + 8
    assert all(t.crop_id != "t1" for t in order[2:])


@pytest.mark.parametrize("kwargs, message", [
    (dict(protocol=Protocol.DCR), "DCR rates impairment"),
    (dict(reference_mode=ReferenceMode.SHOWN), "needs a reference method"),
    (dict(reference=GT, reference_mode=ReferenceMode.SHOWN), "ACR shows one stimulus"),
    (dict(repetitions=0), "Repetitions"),
    (dict(zoom=1.5), "Zoom"),
    (dict(methods=(METHODS[0],), protocol=Protocol.PAIRWISE), "at least two methods"),
    (dict(methods=(METHODS[0], METHODS[0])), "unique"),
    (dict(training=(TrainingItem("c1", "nope"),)), "unknown crop or method"),
])
def test_invalid_designs_are_refused(kwargs: dict, message: str) -> None:
    base = dict(crops=CROPS, methods=METHODS)
    base.update(kwargs)
    with pytest.raises(InputError, match=message):
        StudyDesign(**base)


def test_study_id_ignores_names_but_not_settings() -> None:
    d = StudyDesign(CROPS, METHODS, seed=3)
    renamed = StudyDesign(tuple(replace(c, name=c.name + "!", note="x") for c in CROPS),
                          tuple(Method(m.id, m.label.upper()) for m in METHODS), seed=3, name="Other")
    assert d.study_id == renamed.study_id
    assert StudyDesign(CROPS, METHODS, seed=4).study_id != d.study_id
    assert StudyDesign(CROPS, METHODS, seed=3, zoom=3).study_id != d.study_id


def test_json_round_trip(tmp_path: Path) -> None:
    d = StudyDesign(CROPS, METHODS, protocol=Protocol.DCR, reference=GT, reference_mode=ReferenceMode.SHOWN,
                    repetitions=3, seed=11, zoom=4, grey_interval_s=0.5, name="Demosaick artefacts",
                    training=(TrainingItem("t1", "bl"),), training_crops=(TRAIN,))
    path = save_study(tmp_path / "study.json", d)
    assert json.loads(path.read_text())["format"] == "isp-viewer-study"
    loaded, prov = load_study(path)
    assert loaded == d and prov is None
    assert loaded.crops[0].note == "railings" and loaded.crop("c1").tag == "moiré"


def test_packaged_study_serves_the_same_stimuli(tmp_path: Path) -> None:
    d = StudyDesign(CROPS, METHODS, protocol=Protocol.DCR, reference=GT, reference_mode=ReferenceMode.SHOWN)
    path = save_study(tmp_path / "study.ispstudy", d, provider)
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
    assert "study.json" in names and "stimuli/c1/pynet.png" in names and "stimuli/c2/gt.png" in names
    assert len(names) == 1 + 2 * 4
    loaded, packaged = load_study(path)
    assert loaded == d
    for crop in CROPS:
        for m in ("pynet", "dm", "bl", "gt"):
            got = packaged(m, crop.region)
            assert got.dtype == np.float32 and got.shape == (crop.region.h, crop.region.w, 3)
            # What the runner shows from the package is exactly what it would show from the source.
            np.testing.assert_array_equal(to_display_uint8(got), to_display_uint8(provider(m, crop.region)))
    with pytest.raises(InputError, match="no stimulus"):
        packaged("pynet", Region(1, 1, 2, 2))
    with pytest.raises(InputError, match="image provider is needed"):
        save_study(tmp_path / "x.ispstudy", d)


def test_zoom_is_nearest_neighbour() -> None:
    img = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    z = zoom_nearest(img, 3)
    assert z.shape == (6, 6, 3)
    np.testing.assert_array_equal(z[0:3, 0:3], np.broadcast_to(img[0, 0], (3, 3, 3)))
    np.testing.assert_array_equal(z[3:6, 3:6], np.broadcast_to(img[1, 1], (3, 3, 3)))
    assert to_display_uint8(np.array([[[0.0, 0.5, 1.2]]], np.float32)).tolist() == [[[0, 128, 255]]]
