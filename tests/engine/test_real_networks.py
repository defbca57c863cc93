"""Tiled == full frame with real checkpoints (demosaicnet Bayer, leftthomas SRGAN x4) on Kodak crops.

Small crops keep this fast on a loaded 2-core machine; the tile sizes are chosen so that there is
an interior tile whose context comes from both neighbours. PyNET (crc32-filled) is not here: it is
not tile-safe (InstanceNorm), so the engine runs it whole-frame, and one 64x64 pass plus building
it takes ~20 s on this machine.
"""

from __future__ import annotations

import threading

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


def test_cancelling_a_running_demosaicnet_job_with_default_tiles_stops_inside_the_tile(shared):
    """With the default tiles, a cancel that lands inside a tile of the real network stops it at
    the next module: no module of that job runs after it, and the tile never finishes."""
    from torch.nn.modules.module import register_module_forward_pre_hook

    weights = shared / "weights" / "demosaicnet" / "bayer.pth"
    x = np.random.default_rng(0).random((512, 512), dtype=np.float32)
    tiles_done: list[int] = []
    state = {"armed": False, "calls": 0, "cancelled": False, "after": 0}
    reached, resume = threading.Event(), threading.Event()

    def on_module(module, args):   # every module call, in whatever thread runs it
        # the 512x512 job (the follow-up pads to 96)
        big = bool(args) and hasattr(args[0], "shape") and args[0].shape[-1] >= 200
        if not (state["armed"] and big):
            return
        if state["cancelled"]:
            state["after"] += 1
            return
        state["calls"] += 1
        if state["calls"] == 3:     # a few modules into the first tile: hold it until the test cancels
            reached.set()
            resume.wait(30)

    def on_progress(p):
        tiles_done.append(p.done)
        state["armed"] = True       # the first report comes before the first tile runs

    with _engine() as engine:
        warm = engine.submit(Job.create(x[:32, :32], "demosaicnet_bayer", cfa="RGGB", weights=weights))
        warm.result(60)  # network loaded and warm
        handle = register_module_forward_pre_hook(on_module)
        try:
            job = Job.create(x, "demosaicnet_bayer", cfa="RGGB", weights=weights)  # default tile size
            future = engine.submit(job, progress=on_progress)
            assert reached.wait(120)
            assert engine.cancel(future)
            state["cancelled"], done_at_cancel = True, max(tiles_done)
            resume.set()
            follow = engine.submit(Job.create(x[:32, :32], "demosaicnet_bayer", cfa="RGGB", weights=weights)).result(60)
        finally:
            resume.set()
            handle.remove()
    assert future.cancelled() and follow.output.shape == (32, 32, 3)
    assert state["after"] == 0              # stopped at the next module, not at the end of the tile
    assert max(tiles_done) == done_at_cancel  # the interrupted tile never finished
