"""Tiled == full frame with real checkpoints (demosaicnet Bayer, leftthomas SRGAN x4) on Kodak crops.

Small crops keep this fast on a loaded 2-core machine; the tile sizes are chosen so that there is
an interior tile whose context comes from both neighbours. PyNET (crc32-filled) is not here: it is
not tile-safe (InstanceNorm), so the engine runs it whole-frame, and one 64x64 pass plus building
it takes ~20 s on this machine.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from isp_viewer.core.image import Image
from isp_viewer.engine import CPU_ONLY, Engine, Job
from isp_viewer.io.images import read_image, simulate_mosaic
from isp_viewer.models.adapters import prepare_input, run_full_frame
from isp_viewer.models.registry import get_spec, load_network


def _kodak_crop(data, name: str, y: int, x: int, h: int, w: int) -> Image:
    image = read_image(data / "paired" / "kodak24" / name)
    return image.with_data(image.data[y:y + h, x:x + w])


def _engine() -> Engine:
    return Engine(device_probe=lambda: CPU_ONLY, min_tile=16)


def test_demosaicnet_bayer_tiled_equals_full_frame(data, shared):
    weights = shared / "weights" / "demosaicnet" / "bayer.pth"
    spec = get_spec("demosaicnet_bayer")
    reference = _kodak_crop(data, "kodim19.png", 200, 100, 64, 192)
    mosaic = simulate_mosaic(reference, "RGGB")
    full = run_full_frame(spec, load_network(spec, weights).net, mosaic)
    with _engine() as engine:
        job = Job.from_source(spec, mosaic, weights=weights, tile_size=64, device="cpu")
        assert job.cfa == "RGGB" and job.x.shape == (64, 192)
        assert job.weights_sha256 and len(job.weights_sha256) == 64
        result = engine.submit(job).result(120)
    assert result.tiles == 3 and result.tile_size == 64 and result.device == "cpu"
    assert result.output.shape == full.shape == (64, 192, 3)
    assert np.abs(result.output - full).max() < 1e-3
    # And it is a real demosaick of the scene, not a coincidence of two wrong outputs.
    inner = (slice(4, -4), slice(4, -4))
    mse = np.mean((result.output[inner] - reference.data[inner]) ** 2)
    assert 10 * np.log10(1 / mse) > 30


def test_srgan_leftthomas_x4_tiled_equals_full_frame(data, shared):
    weights = shared / "weights" / "srgan_leftthomas" / "netG_epoch_4_100.pth"
    spec = get_spec("srgan_leftthomas_x4")
    image = _kodak_crop(data, "kodim23.png", 120, 200, 24, 96)
    x, cfa = prepare_input(spec, image)
    full = run_full_frame(spec, load_network(spec, weights).net, image)
    with _engine() as engine:
        result = engine.submit(Job.create(x, spec.id, cfa=cfa, weights=weights, tile_size=32)).result(120)
    assert result.tiles == 3
    assert result.output.shape == full.shape == (96, 384, 3)
    assert np.abs(result.output - full).max() < 1e-3


def test_cancelling_a_running_demosaicnet_job_with_default_tiles_stops_within_a_second(shared):
    weights = shared / "weights" / "demosaicnet" / "bayer.pth"
    x = np.random.default_rng(0).random((512, 512), dtype=np.float32)
    with _engine() as engine:
        warm = engine.submit(Job.create(x[:32, :32], "demosaicnet_bayer", cfa="RGGB", weights=weights))
        warm.result(60)  # network loaded and warm
        running = threading.Event()
        job = Job.create(x, "demosaicnet_bayer", cfa="RGGB", weights=weights)  # default tiles: 4 x 256
        future = engine.submit(job, progress=lambda p: running.set())
        assert running.wait(30)
        time.sleep(0.3)
        t_cancel = time.perf_counter()
        assert engine.cancel(future)
        follow = engine.submit(Job.create(x[:32, :32], "demosaicnet_bayer", cfa="RGGB", weights=weights)).result(60)
        # Time from cancel until the worker was free again, minus the follow-up job's own run.
        stop_latency = time.perf_counter() - t_cancel - follow.seconds
        assert future.cancelled()
        assert stop_latency < 1.0
