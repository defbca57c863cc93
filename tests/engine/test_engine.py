"""Engine behaviour with synthetic networks: placement, queueing, cancel, generations, OOM, progress."""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError, wait

import numpy as np
import pytest
import torch

from isp_viewer.core.errors import ModelError
from isp_viewer.engine import CPU_ONLY, DeviceInfo, Engine, Job, choose_placement
from isp_viewer.models.spec import InputKind
from tests.engine.synthetic import build_loader, conv_spec, gated_spec, lookup, sleepy_spec, smooth_rgb

FAKE_CUDA = DeviceInfo(cuda=True, cuda_name="Simulated GPU", cuda_bf16=True)


@pytest.fixture
def make_engine():
    engines = []

    def make(*specs, probe=CPU_ONLY, loads=None, **kw):
        find = lookup(*specs)
        engine = Engine(build_loader(find, loads), find, None, device_probe=lambda: probe, min_tile=16, **kw)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.shutdown(timeout=5)


def _job(x, spec_id="conv_rgb", **kw):
    return Job.create(x, spec_id, weights="synthetic", weights_sha256="0" * 64, **kw)


# --- device and precision -------------------------------------------------------------------------


def test_placement_prefers_cuda_and_half_precision_only_where_allowed():
    half_ok, fp32_only = conv_spec(fp16=True), conv_spec()
    p = choose_placement(half_ok, "auto", "auto", FAKE_CUDA)
    assert (p.device, p.dtype) == ("cuda", torch.float16)
    assert p.reason == "CUDA available (Simulated GPU); fp16 allowed by descriptor"
    p = choose_placement(fp32_only, "auto", "fp16", FAKE_CUDA)
    assert p.dtype == torch.float32 and "not validated" in p.reason
    p = choose_placement(half_ok, "cpu", "fp16", FAKE_CUDA)
    assert (p.device, p.dtype) == ("cpu", torch.float32) and "CPU runs fp32" in p.reason
    p = choose_placement(half_ok, "auto", "auto", DeviceInfo(mps=True))
    assert (p.device, p.dtype) == ("mps", torch.float16)
    p = choose_placement(half_ok, "cuda", "auto", CPU_ONLY)
    assert p.device == "cpu" and p.reason.startswith("CUDA requested but not available")
    assert choose_placement(half_ok, "auto", "auto", CPU_ONLY).reason == "no GPU found; CPU; fp32 on CPU"


def test_job_validates_requests_and_freezes_input():
    x = smooth_rgb(8, 8)
    job = _job(x, options={"b": 2, "a": 1})
    assert job.options == (("a", 1), ("b", 2))
    with pytest.raises(ValueError):
        job.x[0, 0, 0] = 1.0
    with pytest.raises(ValueError, match="device"):
        _job(x, device="tpu")
    with pytest.raises(ValueError, match="precision"):
        _job(x, precision="int8")
    with pytest.raises(ValueError, match="CFA"):
        Job.create(x[..., 0], "m")


# --- running -----------------------------------------------------------------------------------------


def test_tiled_job_equals_full_frame_and_reports_monotone_progress(make_engine):
    spec = conv_spec(depth=4)
    engine = make_engine(spec)
    x = smooth_rgb(70, 90)
    seen = []
    result = engine.submit(_job(x, tile_size=32, options={"gain": 0.8}), progress=seen.append).result(30)
    full = spec.infer(spec.build(), x, gain=0.8)
    assert np.abs(result.output - full).max() < 1e-5
    assert (result.device, result.dtype, result.tiles, result.tile_size) == ("cpu", "float32", 9, 32)
    assert result.from_cache is False and result.notes == ()
    # a report before the first tile and after each, and reports inside each tile's pass between them
    dones = [p.done for p in seen]
    assert dones == sorted(dones) and sorted(set(dones)) == list(range(10)) and len(seen) > 10
    assert all(p.total == 9 for p in seen)
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    elapsed = [p.elapsed for p in seen]
    assert elapsed == sorted(elapsed) and seen[-1].remaining == 0.0 and seen[0].remaining is None


def test_progress_stays_monotone_when_tiles_are_split_after_oom(make_engine):
    spec = conv_spec(depth=2)

    def infer(net, x, **kw):
        if max(x.shape[:2]) > 45:  # a 32-px core with its 10 px of context per side fits
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")
        return spec.infer(net, x, **kw)

    oom_spec = conv_spec("oom", depth=2, infer=infer)
    engine = make_engine(oom_spec)
    x = smooth_rgb(64, 64)
    seen = []
    result = engine.submit(_job(x, "oom", tile_size=64), progress=seen.append).result(30)
    assert np.abs(result.output - spec.infer(spec.build(), x)).max() < 1e-5
    assert result.tile_size == 32 and result.tiles == 4
    assert "tile size halved to 32 after out-of-memory" in result.notes
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert [p.fraction for p in seen] == sorted(p.fraction for p in seen)
    assert (seen[-1].done, seen[-1].total, seen[-1].fraction) == (4, 4, 1.0)


def test_gpu_out_of_memory_at_minimum_tile_falls_back_to_cpu(make_engine):
    calls = []

    def infer(net, x, *, device="cpu", dtype=torch.float32, **kw):
        calls.append((device, dtype))
        if device != "cpu":
            raise RuntimeError("CUDA error: out of memory")
        return base.infer(net, x, device=device, dtype=dtype, **kw)

    base = conv_spec(depth=3)
    spec = conv_spec("gpu_oom", depth=3, infer=infer, fp16=True)
    loads = []
    engine = make_engine(spec, probe=FAKE_CUDA, loads=loads)
    x = smooth_rgb(48, 48)
    result = engine.submit(_job(x, "gpu_oom", tile_size=32)).result(30)
    assert np.abs(result.output - base.infer(base.build(), x)).max() < 1e-5
    assert (result.device, result.dtype) == ("cpu", "float32")
    assert result.notes == ("tile size halved to 16 after out-of-memory", "fell back to CPU after CUDA out-of-memory")
    assert result.reason.startswith("CUDA available (Simulated GPU); fp16 allowed by descriptor")
    assert calls[0] == ("cuda", torch.float16) and calls[-1] == ("cpu", torch.float32)
    assert len(loads) == 2  # one network per (device, dtype)


def test_whole_frame_networks_are_not_tiled_and_can_run_downscaled(make_engine):
    seen_shapes = []
    base = conv_spec(depth=2)

    def infer(net, x, **kw):
        seen_shapes.append(x.shape)
        return base.infer(net, x, **kw)

    spec = conv_spec("global", depth=2, tiling_safe=False, infer=infer)
    engine = make_engine(spec)
    x = smooth_rgb(60, 80)
    result = engine.submit(_job(x, "global", tile_size=16)).result(30)
    assert seen_shapes == [(60, 80, 3)] and result.tiles == 1
    assert result.notes == ("Synthetic global runs whole-frame by design (not tile-safe)",)
    assert np.array_equal(result.output, base.infer(base.build(), x))

    small = engine.submit(_job(x, "global", max_whole_frame_pixels=1200)).result(30)
    assert seen_shapes[-1][0] * seen_shapes[-1][1] <= 1200
    assert small.output.shape == (60, 80, 3)
    assert any("ran downscaled to" in n and "fine detail is lost" in n for n in small.notes)
    assert np.abs(small.output - result.output).mean() < 0.1  # the same picture, softer


def test_networks_are_cached_per_spec_weights_device_and_dtype(make_engine):
    a, b = conv_spec("a", depth=1), conv_spec("b", depth=1)
    loads = []
    engine = make_engine(a, b, loads=loads, max_networks=1)
    x = smooth_rgb(12, 12)
    for spec_id in ("a", "a", "b", "a"):
        engine.submit(_job(x, spec_id)).result(30)
    assert [s for s, _ in loads] == ["a", "b", "a"]  # LRU of one: b evicted a


def test_errors_reach_the_future(make_engine):
    def infer(net, x, **kw):
        raise ModelError("Synthetic needs a RAW mosaic")

    engine = make_engine(conv_spec("bad", infer=infer))
    with pytest.raises(ModelError, match="needs a RAW mosaic"):
        engine.submit(_job(smooth_rgb(8, 8), "bad")).result(30)
    with pytest.raises(KeyError):
        engine.submit(_job(smooth_rgb(8, 8), "missing")).result(30)


# --- queueing, cancel, generations -------------------------------------------------------------


def _gate_engine(make_engine):
    calls: list[str] = []
    engine = make_engine(gated_spec(calls))
    gate = threading.Event()
    started = threading.Event()
    blocker = engine.submit(Job.create(smooth_rgb(4, 4), "gated", channel="blocker",
                                       options={"tag": "blocker", "gate": gate, "on_run": started.set}))
    assert started.wait(10)
    return engine, calls, gate, blocker


def _gated_job(tag, channel, generation=0):
    return Job.create(smooth_rgb(4, 4), "gated", channel=channel, generation=generation, options={"tag": tag})


def test_channels_are_served_round_robin_fifo_inside(make_engine):
    engine, calls, gate, blocker = _gate_engine(make_engine)
    futures = [engine.submit(_gated_job(tag, channel)) for tag, channel in
               [("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b"), ("b2", "b"), ("c1", "c")]]
    gate.set()
    for f in [blocker, *futures]:
        f.result(10)
    assert calls == ["blocker", "a1", "b1", "c1", "a2", "b2", "a3"]


def test_cancel_a_queued_job(make_engine):
    engine, calls, gate, _blocker = _gate_engine(make_engine)
    queued = engine.submit(_gated_job("queued", "a"))
    after = engine.submit(_gated_job("after", "a"))
    assert engine.cancel(queued) and queued.cancelled()
    gate.set()
    after.result(10)
    assert calls == ["blocker", "after"]
    with pytest.raises(CancelledError):
        queued.result(0)


class _PausingLog(list):
    """The sleepy network's layer log; when the layer numbered `pause_at` starts, it signals
    `reached` and holds that layer until `resume` is set (so the test cancels at a known point)."""

    def __init__(self, pause_at: int) -> None:
        super().__init__()
        self.pause_at, self.reached, self.resume = pause_at, threading.Event(), threading.Event()

    def append(self, t: float) -> None:
        super().append(t)
        if len(self) == self.pause_at:
            self.reached.set()
            if not self.resume.wait(20):
                raise TimeoutError("the test never resumed the paused layer")


def test_cancel_a_running_job_stops_within_the_running_layer(make_engine):
    # 10 layers per tile, 16 tiles; paused in the 2nd layer of the 2nd tile, cancelled from this thread.
    log = _PausingLog(pause_at=12)
    spec, loader = sleepy_spec(log, layers=10, seconds=0.01)
    engine = Engine(loader, lookup(spec), None, device_probe=lambda: CPU_ONLY, min_tile=16)
    try:
        future = engine.submit(Job.create(smooth_rgb(64, 64), "sleepy", tile_size=16))
        assert log.reached.wait(30)
        assert engine.cancel(future)
        assert future.cancelled()
        log.resume.set()
        # The worker is free again: a new job on the same device starts and finishes.
        follow = engine.submit(Job.create(smooth_rgb(8, 8), "sleepy", tile_size=16))
        follow.result(30)
        # The cancelled job ran no layer after the one it was in (a per-tile check would have run
        # the 8 left in that tile, no check at all the remaining 148); the follow-up ran its 10.
        assert len(log) == 12 + 10
    finally:
        log.resume.set()
        engine.shutdown(timeout=5)


def test_newer_generation_cancels_queued_older_one(make_engine):
    engine, calls, gate, _blocker = _gate_engine(make_engine)
    old = engine.submit(_gated_job("old", "pane", generation=1))
    new = engine.submit(_gated_job("new", "pane", generation=2))
    assert old.cancelled()
    late = engine.submit(_gated_job("late", "pane", generation=1))  # arrives already superseded
    assert late.cancelled()
    gate.set()
    assert new.result(10).generation == 2
    assert calls == ["blocker", "new"]


def test_stale_result_is_dropped_when_superseded_during_the_run(make_engine):
    calls: list[str] = []
    spec = gated_spec(calls)
    engine = make_engine(spec)
    newer = []

    def submit_newer():  # runs inside the old job's network call, i.e. while it is running
        newer.append(engine.submit(_gated_job("newer", "pane", generation=8)))

    old = engine.submit(Job.create(smooth_rgb(4, 4), "gated", channel="pane", generation=7,
                                   options={"tag": "old", "on_run": submit_newer}))
    wait([old], timeout=10)
    assert old.cancelled()
    assert newer and newer[0].result(10).generation == 8
    assert calls == ["old", "newer"]  # the old job did run; its result was thrown away


def test_running_older_generation_stops_early(make_engine):
    log: list[float] = []
    spec, loader = sleepy_spec(log, layers=4, seconds=0.05)
    engine = Engine(loader, lookup(spec), None, device_probe=lambda: CPU_ONLY, min_tile=16)
    try:
        started = threading.Event()
        old = engine.submit(Job.create(smooth_rgb(64, 64), "sleepy", tile_size=16, channel="p", generation=1),
                            progress=lambda p: p.done >= 1 and started.set())
        assert started.wait(20)
        new = engine.submit(Job.create(smooth_rgb(16, 16), "sleepy", tile_size=16, channel="p", generation=2))
        assert new.result(10).generation == 2
        assert old.cancelled()
        assert len(log) < 16 * 4  # the old job did not run all its tiles
    finally:
        engine.shutdown(timeout=5)


def test_shutdown_cancels_queued_jobs(make_engine):
    engine, _calls, gate, _blocker = _gate_engine(make_engine)
    queued = engine.submit(_gated_job("q", "a"))
    gate.set()
    engine.shutdown(timeout=5)
    assert queued.cancelled()
    with pytest.raises(RuntimeError, match="shut down"):
        engine.submit(_gated_job("x", "a"))


def test_mosaic_jobs_keep_their_cfa(make_engine):
    spec = conv_spec("bayer", depth=3, kind=InputKind.BAYER)
    engine = make_engine(spec)
    x = smooth_rgb(40, 48)[..., 0]
    result = engine.submit(Job.create(x, "bayer", cfa="BGGR", tile_size=16, weights="w", weights_sha256="1")).result(30)
    assert np.abs(result.output - spec.infer(spec.build(), x, cfa="BGGR")).max() < 1e-5


def test_networks_receive_writable_copies_of_the_read_only_input(make_engine):
    seen = []

    def infer(net, x, **kw):
        seen.append(x.flags.writeable and x.flags.c_contiguous)
        x[...] = 0.5  # scribbling on its input must not reach the job
        return x.copy()

    tiled = conv_spec("tiled", infer=infer, overlap=0)
    whole = conv_spec("whole", infer=infer, tiling_safe=False)
    engine = make_engine(tiled, whole)
    x = smooth_rgb(40, 40)
    job = _job(x, "tiled", tile_size=16)
    engine.submit(job).result(30)
    engine.submit(_job(x, "whole")).result(30)
    assert seen and all(seen)
    assert np.array_equal(job.x, x)


def test_job_from_source_refuses_inputs_the_network_cannot_take():
    from isp_viewer.core.image import Image
    from isp_viewer.models.registry import get_spec

    with pytest.raises(ModelError, match="needs a RAW mosaic"):
        Job.from_source(get_spec("demosaicnet_bayer"), Image(smooth_rgb(16, 16)))
    job = Job.from_source(get_spec("srgan_leftthomas_x4"), Image(smooth_rgb(16, 16)), weights="crc32-fill")
    assert job.cfa is None and job.x.shape == (16, 16, 3) and job.weights_sha256 == ""


def test_whole_frame_gpu_out_of_memory_reruns_on_cpu(make_engine):
    base = conv_spec(depth=2)
    devices = []

    def infer(net, x, *, device="cpu", **kw):
        devices.append(device)
        if device == "cuda":
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 9.00 GiB")
        return base.infer(net, x, device=device, **kw)

    engine = make_engine(conv_spec("big", depth=2, tiling_safe=False, infer=infer), probe=FAKE_CUDA)
    x = smooth_rgb(24, 24)
    result = engine.submit(_job(x, "big")).result(30)
    assert devices == ["cuda", "cpu"] and result.device == "cpu"
    assert result.notes[-1] == "fell back to CPU after CUDA out-of-memory"
    assert np.array_equal(result.output, base.infer(base.build(), x))
