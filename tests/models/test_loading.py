"""Safe, strict checkpoint loading: containers, prefixes, readable mismatches, malicious pickles."""

from __future__ import annotations

import os
import pickle

import pytest
import torch
from torch import nn

from isp_viewer.core.errors import WeightsError
from isp_viewer.models.loading import describe_mismatch, load_strict, read_checkpoint, strip_prefixes, unwrap_container


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)


class Boom:
    """Unpickling this would create a file: proof that code ran."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def test_malicious_pickle_is_refused_without_running(tmp_path):
    target = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "payload": Boom(str(target))}, path)
    with pytest.raises(WeightsError, match="refused"):
        read_checkpoint(path)
    assert not target.exists()
    legacy = tmp_path / "evil_legacy.pt"
    with open(legacy, "wb") as f:
        pickle.dump(Boom(str(target)), f)
    with pytest.raises(WeightsError):
        read_checkpoint(legacy)
    assert not target.exists()


@pytest.mark.parametrize("container", ["state_dict", "params", "params_ema", "model", None])
@pytest.mark.parametrize("prefix", ["", "module.", "_orig_mod.", "module._orig_mod."])
def test_containers_and_prefixes_unwrap(tmp_path, container, prefix):
    net = Tiny()
    sd = {prefix + k: v for k, v in net.state_dict().items()}
    obj = {container: sd, "epoch": 3} if container else sd
    path = tmp_path / "ckpt.pth.tar"
    torch.save(obj, path)
    got = read_checkpoint(path)
    assert set(got) == set(net.state_dict())
    load_strict(Tiny(), got)


def test_safetensors(tmp_path):
    from safetensors.torch import save_file

    net = Tiny()
    save_file(net.state_dict(), str(tmp_path / "w.safetensors"))
    other = load_strict(Tiny(), read_checkpoint(tmp_path / "w.safetensors"))
    assert torch.equal(other.conv.weight, net.conv.weight)


def test_mismatch_message_lists_missing_unexpected_and_shapes():
    sd = Tiny().state_dict()
    sd.pop("bn.weight")
    sd["extra.bias"] = torch.zeros(2)
    sd["conv.weight"] = torch.zeros(4, 3, 5, 5)
    with pytest.raises(WeightsError) as info:
        load_strict(Tiny(), sd, "x.pth")
    msg = str(info.value)
    assert "1 missing: bn.weight" in msg and "1 unexpected: extra.bias" in msg
    assert "conv.weight (4, 3, 5, 5)≠(4, 3, 3, 3)" in msg and "\n" not in msg


def test_bad_files(tmp_path):
    (tmp_path / "empty.pth").write_bytes(b"")
    with pytest.raises(WeightsError, match="empty"):
        read_checkpoint(tmp_path / "empty.pth")
    (tmp_path / "junk.pth").write_bytes(os.urandom(300))
    with pytest.raises(WeightsError, match="not a readable"):
        read_checkpoint(tmp_path / "junk.pth")
    with pytest.raises(WeightsError, match="no state_dict"):
        unwrap_container({"epoch": 1})
    assert strip_prefixes({"module.a": 1, "module.b": 2}) == {"a": 1, "b": 2}
    assert describe_mismatch({"a": (1,)}, {"a": torch.zeros(1)}) == ""
