"""How a network runs: device and precision choice, tiling with blended seams, out-of-memory
recovery, cancellation, progress, and a result cache. Qt-free; `Engine.submit(job) -> Future`.

The names below load on first use (PEP 562): importing the package costs nothing, so the window
and the light CLI commands can name the engine without paying for torch until a network runs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

_HOMES = {
    "ResultCache": "cache", "cache_key": "cache", "default_cache_dir": "cache",
    "CPU_ONLY": "devices", "DeviceInfo": "devices", "Placement": "devices", "choose_placement": "devices",
    "probe_devices": "devices",
    "ENGINE_VERSION": "engine", "Engine": "engine", "JobCancelled": "engine", "default_network_loader": "engine",
    "Job": "jobs", "Progress": "jobs", "Result": "jobs", "hash_input": "jobs",
    "TiledRun": "tiling",
    "make_engine": "run", "run_through_engine": "run", "shared_engine": "run",
}

__all__ = [  # noqa: RUF022 (grouped by home module, as in _HOMES)
    "ResultCache", "cache_key", "default_cache_dir",
    "CPU_ONLY", "DeviceInfo", "Placement", "choose_placement", "probe_devices",
    "ENGINE_VERSION", "Engine", "JobCancelled", "default_network_loader",
    "Job", "Progress", "Result", "hash_input",
    "TiledRun",
    "make_engine", "run_through_engine", "shared_engine",
]


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value   # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


if TYPE_CHECKING:   # for type checkers and editors; at run time __getattr__ does this
    from isp_viewer.engine.cache import ResultCache, cache_key, default_cache_dir
    from isp_viewer.engine.devices import CPU_ONLY, DeviceInfo, Placement, choose_placement, probe_devices
    from isp_viewer.engine.engine import ENGINE_VERSION, Engine, JobCancelled, default_network_loader
    from isp_viewer.engine.jobs import Job, Progress, Result, hash_input
    from isp_viewer.engine.run import make_engine, run_through_engine, shared_engine
    from isp_viewer.engine.tiling import TiledRun
