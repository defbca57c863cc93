"""How a network runs: device and precision choice, tiling with blended seams, out-of-memory
recovery, cancellation, progress, and a result cache. Qt-free; `Engine.submit(job) -> Future`."""

from isp_viewer.engine.cache import ResultCache, cache_key, default_cache_dir
from isp_viewer.engine.devices import CPU_ONLY, DeviceInfo, Placement, choose_placement, probe_devices
from isp_viewer.engine.engine import ENGINE_VERSION, Engine, JobCancelled, default_network_loader
from isp_viewer.engine.jobs import Job, Progress, Result, hash_input
from isp_viewer.engine.tiling import TiledRun

__all__ = [
    "CPU_ONLY", "DeviceInfo", "ENGINE_VERSION", "Engine", "Job", "JobCancelled", "Placement", "Progress",
    "Result", "ResultCache", "TiledRun", "cache_key", "choose_placement", "default_cache_dir",
    "default_network_loader", "hash_input", "probe_devices",
]
