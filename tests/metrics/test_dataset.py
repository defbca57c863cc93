"""Data-set evaluation: the table equals per-image runs; pairing files by name."""

import threading
from concurrent.futures import CancelledError

import cv2
import numpy as np
import pytest

from isp_viewer.core.errors import InputError
from isp_viewer.metrics import (
    SR_PAPER,
    Convention,
    evaluate_pairs,
    flip,
    match_by_name,
    ms_ssim,
    normalized_stem,
    psnr,
    ssim,
)


def _scene(seed, h=200, w=190):
    rng = np.random.default_rng(seed)
    ref = cv2.resize(rng.random((h // 8, w // 8, 3)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    ref = np.clip(ref, 0, 1)
    outputs = {
        "noisy": np.clip(ref + 0.03 * rng.standard_normal(ref.shape), 0, 1).astype(np.float32),
        "blurred": cv2.GaussianBlur(ref, (5, 5), 1.0),
    }
    return f"img{seed}", ref, outputs


def test_table_equals_per_image_runs():
    pairs = [_scene(s, 180, 184) for s in range(2)]
    conv = SR_PAPER(2)
    calls = []
    table = evaluate_pairs(pairs, conv, progress=lambda d, t: calls.append((d, t)),
                           metrics=("PSNR", "SSIM", "MS-SSIM"))
    assert table.convention == conv
    assert table.images == ("img0", "img1")
    assert table.methods == ("noisy", "blurred")
    for name, ref, outputs in pairs:
        for method, out in outputs.items():
            assert table.value(method, name, "PSNR") == psnr(out, ref, conv)
            assert table.value(method, name, "SSIM") == ssim(out, ref, conv)
            assert table.value(method, name, "MS-SSIM") == ms_ssim(out, ref, conv)
    assert calls == [(i, 4) for i in range(1, 5)]
    assert table.mean("noisy", "PSNR") == pytest.approx(np.mean([psnr(o["noisy"], r, conv) for _, r, o in pairs]))


def test_flip_column_equals_flip():
    name, ref, outputs = _scene(3, 40, 48)
    table = evaluate_pairs([(name, ref, {"noisy": outputs["noisy"]})], Convention(), metrics=("FLIP",))
    assert table.metrics == ("FLIP",)
    assert table.value("noisy", name, "FLIP") == flip(outputs["noisy"], ref)[0]


def test_outputs_of_another_scale_are_aligned_first():
    name, ref, _ = _scene(5, 64, 64)
    big = np.repeat(np.repeat(ref, 2, axis=0), 2, axis=1)
    table = evaluate_pairs([(name, ref, {"x2": big})], Convention())
    assert table.value("x2", name, "PSNR") == np.inf


def test_alignment_errors_name_the_image_and_method():
    name, ref, _ = _scene(6, 64, 64)
    with pytest.raises(InputError, match="img6 / odd"):
        evaluate_pairs([(name, ref, {"odd": ref[:30]})], Convention())


def test_cancel_stops_between_images():
    pairs = [_scene(s, 48, 48) for s in range(3)]
    event = threading.Event()

    def progress(done, total):
        if done == 2:
            event.set()

    with pytest.raises(CancelledError):
        evaluate_pairs(pairs, Convention(), progress=progress, cancel=event)
    with pytest.raises(CancelledError):
        evaluate_pairs(pairs, Convention(), cancel=lambda: True)


def test_unknown_metric():
    with pytest.raises(ValueError, match="LPIPS"):
        evaluate_pairs([], Convention(), metrics=("LPIPS",))


@pytest.mark.parametrize("name, stem", [("baby_GT.bmp", "baby"), ("baby_x4_SR.png", "baby"),
                                        ("Head-HR.png", "head"), ("0801x4.png", "0801"),
                                        ("woman_gt.png", "woman"), ("img_001_out.png", "img_001"),
                                        ("lr.png", "lr")])
def test_normalized_stem(name, stem):
    assert normalized_stem(name) == stem


def test_match_by_name(tmp_path):
    outs, refs = tmp_path / "out", tmp_path / "ref"
    outs.mkdir()
    refs.mkdir()
    for n in ("baby_x4_SR.png", "bird.png", "extra.png", "notes.txt"):
        (outs / n).write_bytes(b"")
    for n in ("baby_GT.bmp", "bird_HR.png", "woman_GT.bmp"):
        (refs / n).write_bytes(b"")
    pairs = match_by_name(outs, refs)
    assert [(s, i.name, r.name) for s, i, r in pairs] == [
        ("baby", "baby_x4_SR.png", "baby_GT.bmp"), ("bird", "bird.png", "bird_HR.png")]
    with pytest.raises(InputError, match="no partner"):
        match_by_name(outs, refs, strict=True)
    (outs / "bird_SR.png").write_bytes(b"")
    with pytest.raises(InputError, match="both match"):
        match_by_name(outs, refs)


def test_match_by_name_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        match_by_name(tmp_path / "nope", tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.png").write_bytes(b"")
    (tmp_path / "b" / "y.png").write_bytes(b"")
    with pytest.raises(InputError, match="No file names"):
        match_by_name(tmp_path / "a", tmp_path / "b")


def test_match_by_name_on_set5(data, tmp_path):
    refs = data / "paired" / "sr_set5"
    for p in refs.glob("*_GT.bmp"):
        (tmp_path / f"{p.stem[:-3]}_x4_SR.png").write_bytes(b"")
    stems = [s for s, _, _ in match_by_name(tmp_path, refs, strict=True)]
    assert stems == ["baby", "bird", "butterfly", "head", "woman"]
