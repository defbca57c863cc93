"""The on-disk result cache, alone and behind the engine."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from isp_viewer.engine import CPU_ONLY, ENGINE_VERSION, Engine, Job, ResultCache, cache_key, default_cache_dir
from isp_viewer.engine.jobs import fingerprint, options_fingerprint
from tests.engine.synthetic import ValidConvNet, build_loader, conv_spec, lookup, smooth_rgb


def _key(n: int) -> str:
    return cache_key(f"input{n}", "net", "w" * 64, "[]", ENGINE_VERSION)


def test_put_get_roundtrip_and_metadata(tmp_path):
    cache = ResultCache(tmp_path, max_bytes=10_000_000)
    out = smooth_rgb(16, 20)
    assert cache.get(_key(1)) is None
    assert cache.put(_key(1), out, {"device": "cpu", "notes": ["n"]})
    got, meta = cache.get(_key(1))
    assert got.dtype == np.float32 and np.array_equal(got, out)
    assert meta == {"device": "cpu", "notes": ["n"]}
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".json", ".npy"]
    cache.clear()
    assert list(tmp_path.iterdir()) == [] and cache.get(_key(1)) is None


def test_key_depends_on_every_ingredient():
    base = dict(input_hash="i", spec_id="s", weights_sha256="w", options="[]", engine_version="1")
    keys = {cache_key(**base)}
    for name in base:
        keys.add(cache_key(**{**base, name: base[name] + "x"}))
    keys.add(cache_key(**base, dtype="float16"))
    assert len(keys) == len(base) + 2 and all(len(k) == 64 for k in keys)


def test_lru_eviction_keeps_recently_used_entries(tmp_path):
    one = smooth_rgb(32, 32)  # 12 KiB each
    cache = ResultCache(tmp_path, max_bytes=int(2.5 * one.nbytes))
    cache.put(_key(1), one, {})
    cache.put(_key(2), one, {})
    assert cache.get(_key(1)) is not None      # 1 is now more recent than 2
    cache.put(_key(3), one, {})
    assert cache.contains(_key(1)) and cache.contains(_key(3)) and not cache.contains(_key(2))
    assert cache.size_bytes() <= cache.max_bytes
    assert not cache.put(_key(4), smooth_rgb(64, 64), {})  # larger than the whole cache: not stored


def test_damaged_entry_is_a_miss_and_is_removed(tmp_path):
    cache = ResultCache(tmp_path)
    cache.put(_key(1), smooth_rgb(4, 4), {})
    (tmp_path / f"{_key(1)}.npy").write_bytes(b"not a numpy file")
    assert cache.get(_key(1)) is None and not cache.contains(_key(1))


def test_objects_are_never_pickled(tmp_path):
    cache = ResultCache(tmp_path)
    with pytest.raises(ValueError):
        cache.put(_key(1), np.array([{"a": 1}], dtype=object), {})


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ISPV_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c" and ResultCache().directory == tmp_path / "c"
    monkeypatch.delenv("ISPV_CACHE_DIR")
    assert default_cache_dir().parts[-3:] == (".cache", "isp-viewer", "results")


def test_option_fingerprints_follow_content():
    a = np.zeros((4, 4), np.float32)
    assert fingerprint(a) == fingerprint(a.copy()) != fingerprint(a + 1)
    assert fingerprint(ValidConvNet(seed=1)) == fingerprint(ValidConvNet(seed=1)) != fingerprint(ValidConvNet(seed=2))
    assert fingerprint(0.1) != fingerprint(0.1000001)
    assert json.loads(options_fingerprint((("noise", (0.01, 0.002)), ("x", None))))
    with pytest.raises(TypeError):
        fingerprint(object())


def test_engine_serves_a_second_identical_job_from_the_cache(tmp_path):
    spec = conv_spec(depth=3)
    loads = []
    find = lookup(spec)
    cache = ResultCache(tmp_path)
    with Engine(build_loader(find, loads), find, cache, device_probe=lambda: CPU_ONLY, min_tile=16) as engine:
        x = smooth_rgb(40, 50)
        job = Job.create(x, "conv_rgb", weights="w.pth", weights_sha256="a" * 64, tile_size=16, options={"gain": 0.5})
        first = engine.submit(job).result(30)
        assert not first.from_cache and first.cache_key and cache.contains(first.cache_key)
        again = engine.submit(Job.create(x.copy(), "conv_rgb", weights="w.pth", weights_sha256="a" * 64,
                                         tile_size=32, options={"gain": 0.5})).result(30)
        assert again.from_cache and np.array_equal(again.output, first.output)
        assert (again.device, again.tiles, again.tile_size) == ("cpu", first.tiles, 16)
        assert again.notes[-1].startswith("from the result cache (computed in")
        assert len(loads) == 1  # the hit did not load or run the network
        other = engine.submit(Job.create(x, "conv_rgb", weights="w.pth", weights_sha256="a" * 64,
                                         options={"gain": 0.6})).result(30)
        assert not other.from_cache and not np.array_equal(other.output, first.output)
        unknown_weights = engine.submit(Job.create(x, "conv_rgb", weights="crc32-fill")).result(30)
        assert not unknown_weights.from_cache and "not cached: the weights have no sha256" in unknown_weights.notes


def test_evicted_entry_is_recomputed(tmp_path):
    spec = conv_spec(depth=2)
    find = lookup(spec)
    cache = ResultCache(tmp_path)
    with Engine(build_loader(find), find, cache, device_probe=lambda: CPU_ONLY, min_tile=16) as engine:
        job = Job.create(smooth_rgb(20, 20), "conv_rgb", weights_sha256="b" * 64)
        first = engine.submit(job).result(30)
        (tmp_path / f"{first.cache_key}.npy").unlink()  # gone between the check and the read
        (tmp_path / f"{first.cache_key}.json").write_text("{}")
        again = engine.submit(job).result(30)
        assert not again.from_cache and np.array_equal(again.output, first.output)


def test_precision_is_part_of_the_key(tmp_path):
    spec = conv_spec(depth=2, fp16=True)
    find = lookup(spec)
    cache = ResultCache(tmp_path)
    calls = []

    def infer(net, x, *, device="cpu", dtype=torch.float32, **kw):
        calls.append(dtype)
        return spec.infer(net, x)

    fake = conv_spec(depth=2, fp16=True, infer=infer)
    from isp_viewer.engine import DeviceInfo

    with Engine(build_loader(find), lookup(fake), cache, device_probe=lambda: DeviceInfo(cuda=True),
                min_tile=16) as engine:
        x = smooth_rgb(20, 20)
        half = engine.submit(Job.create(x, "conv_rgb", weights_sha256="c" * 64)).result(30)
        full = engine.submit(Job.create(x, "conv_rgb", weights_sha256="c" * 64, precision="fp32")).result(30)
        assert (half.dtype, full.dtype) == ("float16", "float32")
        assert not full.from_cache and calls == [torch.float16, torch.float32]
