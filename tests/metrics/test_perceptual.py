"""LPIPS and DISTS: the full pipeline with a random backbone and the wheel's real heads."""


import numpy as np
import pytest
import torch

from isp_viewer.core.errors import InputError
from isp_viewer.metrics.backbones import BACKBONE_FILES, build_features, find_backbone, load_features
from isp_viewer.metrics.perceptual import Dists, Lpips, dists, head_file, lpips, unavailable_reason
from tests.metrics.torchmetrics_reference import torchmetrics_dists, torchmetrics_lpips

pytestmark = pytest.mark.skipif(head_file("lpips_models/alex.pth") is None,
                                reason="needs the torchmetrics wheel (LPIPS/DISTS heads)")


def _random_features(net, seed=0):
    torch.manual_seed(seed)
    return build_features(net)


def _pair(h=64, w=72, seed=0):
    rng = np.random.default_rng(seed)
    ref = rng.random((h, w, 3)).astype(np.float32)
    return np.clip(ref + rng.normal(0, 0.1, ref.shape).astype(np.float32), 0, 1), ref


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_lpips_equals_torchmetrics_with_the_same_random_backbone(net):
    feats = _random_features(net)
    a, b = _pair()
    ours = Lpips(net, feats)(a, b)
    assert ours > 0 and Lpips(net, feats)(b, b) == 0.0
    assert ours == pytest.approx(torchmetrics_lpips(net, feats, a, b), rel=1e-4)


def test_dists_equals_torchmetrics_with_the_same_random_backbone():
    feats = _random_features("vgg", 1)
    a, b = _pair(48, 40, 2)
    expected = torchmetrics_dists(feats, a, b)
    ours = Dists(feats)(a, b)
    assert ours == pytest.approx(expected, abs=1e-5)
    assert abs(Dists(feats)(b, b)) < 1e-5 < ours


def test_backbone_file_loads_strictly_and_wrong_files_are_refused(tmp_path):
    feats = _random_features("alex")
    state = {f"features.{k}": v for k, v in feats.state_dict().items()}
    bad = tmp_path / "features-only.pth"
    torch.save(state, bad)
    with pytest.raises(InputError, match="not torchvision's alex file"):
        load_features("alex", bad)
    # torchvision's full layout: the classifier is checked for shape, then dropped.
    classifier = {"classifier.1": (4096, 9216), "classifier.4": (4096, 4096), "classifier.6": (1000, 4096)}
    for name, shape in classifier.items():
        state[f"{name}.weight"], state[f"{name}.bias"] = torch.zeros(shape), torch.zeros(shape[0])
    good = tmp_path / "alexnet-random.pth"
    torch.save(state, good)
    loaded = load_features("alex", good)
    a, b = _pair(40, 40)
    assert Lpips("alex", loaded)(a, b) == pytest.approx(Lpips("alex", feats)(a, b), rel=1e-6)
    assert lpips(a, b, "alex", backbone=str(good)) == pytest.approx(Lpips("alex", feats)(a, b), rel=1e-6)
    fake = tmp_path / "alexnet-owt-7be5be79.pth"  # torchvision's name, other bytes
    fake.write_bytes(good.read_bytes())
    with pytest.raises(InputError, match="does not match"):
        load_features("alex", fake)


def test_missing_backbone_gives_the_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    for metric, net in (("lpips-alex", "alex"), ("lpips-vgg", "vgg"), ("dists", "vgg")):
        reason = unavailable_reason(metric)
        assert BACKBONE_FILES[net] in reason and str(tmp_path) in reason
    assert find_backbone("alex")[0] is None
    a, b = _pair(16, 16)
    with pytest.raises(InputError, match=r"alexnet-owt-7be5be79\.pth"):
        lpips(a, b, "alex")
    with pytest.raises(InputError, match=r"vgg16-397923af\.pth"):
        dists(a, b)
