"""Layers from PyTorch modules (meta tensors, no weights allocated) and the shipped
workload topologies."""

import pytest
import torch
from torch import nn

from simulators.accel import AccelInputError, Layer, read_topology
from simulators.accel.torch_layers import layers_from_torch
from workloads.accel import BUILDERS, available, load, resnet18, topology_path


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=2)
        self.head = nn.Linear(8, 5)

    def forward(self, x):
        x = torch.relu(self.dw(self.stem(x)))  # 17x17 -> 9x9 -> 9x9
        return self.head(x.flatten(2).transpose(1, 2))  # (1, 81 tokens, 8)


def test_conv_groups_and_linear_shapes():
    model = Tiny()
    before = model.stem.weight.clone()
    layers = layers_from_torch(model, (1, 3, 17, 17))
    assert layers == [Layer("stem", 19, 19, 3, 3, 3, 8, 2),  # (9 - 1) * 2 + 3 rows read
                      Layer("dw.g0", 11, 11, 3, 3, 4, 4, 1),
                      Layer("dw.g1", 11, 11, 3, 3, 4, 4, 1),
                      Layer.gemm("head", 81, 5, 8)]
    assert model.stem.weight.device.type == "cpu" and torch.equal(model.stem.weight, before)
    out = model(torch.zeros(1, 3, 17, 17))
    assert out.shape == (1, 81, 5)


def test_meta_model_without_weights():
    with torch.device("meta"):
        model = nn.Sequential(nn.Conv2d(16, 32, 1), nn.Flatten(), nn.Linear(32 * 4 * 4, 10))
    layers = layers_from_torch(model, (1, 16, 4, 4))
    assert [(x.name, x.m, x.n, x.k) for x in layers] == [("0", 16, 32, 16), ("2", 1, 10, 512)]


@pytest.mark.parametrize(("module", "shape", "message"), [
    (nn.Conv2d(3, 4, 3, dilation=2), (1, 3, 9, 9), "dilation"),
    (nn.Conv2d(3, 4, 3, stride=(1, 2)), (1, 3, 9, 9), "one stride"),
    (nn.Conv2d(3, 4, 3), (2, 3, 9, 9), "batch 2"),
    (nn.ReLU(), (1, 3), "no nn.Conv2d or nn.Linear"),
])
def test_unsupported_models_are_refused(module, shape, message):
    with pytest.raises(AccelInputError, match=message):
        layers_from_torch(module, shape)


@pytest.mark.parametrize(("name", "gmacs", "rows"), [
    ("resnet18", 1.814, 21),   # torchvision: 1.81 GFLOPS (multiply-accumulates)
    ("resnet50", 4.089, 54),   # torchvision: 4.09 GFLOPS
    ("bert_base", 11.17, 360),
    ("gpt2", 145.8, 337),
])
def test_shipped_workloads(name, gmacs, rows):
    layers = load(name)
    assert layers == BUILDERS[name]()  # the shipped CSV is what the builder makes
    assert len(layers) == rows
    assert sum(x.macs for x in layers) / 1e9 == pytest.approx(gmacs, rel=1e-3)
    assert name in available()
    assert read_topology(topology_path(name)) == layers


def test_resnet18_builder_matches_a_pytorch_resnet18():
    def block(cin, cout, stride):
        layers = [nn.Conv2d(cin, cout, 3, stride, 1), nn.Conv2d(cout, cout, 3, 1, 1)]
        return layers + ([nn.Conv2d(cin, cout, 1, stride)] if cin != cout else [])

    class R18(nn.Module):  # the layer sequence of torchvision's resnet18, without the adds
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3)
            self.pool = nn.MaxPool2d(3, 2, 1)
            self.blocks = nn.ModuleList()
            cin = 64
            for w, s in ((64, 1), (128, 2), (256, 2), (512, 2)):
                self.blocks.append(nn.ModuleList(block(cin, w, s)))
                self.blocks.append(nn.ModuleList(block(w, w, 1)))
                cin = w
            self.fc = nn.Linear(512, 1000)

        def forward(self, x):
            x = self.pool(self.conv1(x))
            for b in self.blocks:
                y = b[1](b[0](x))
                if len(b) == 3:
                    b[2](x)
                x = y
            return self.fc(x.mean((2, 3)))

    got = layers_from_torch(R18(), (1, 3, 224, 224))
    shape = lambda x: (x.ifmap_h, x.ifmap_w, x.filter_h, x.channels, x.num_filters, x.stride)  # noqa: E731
    assert sorted(map(shape, got)) == sorted(map(shape, resnet18()))


def test_unknown_workload():
    with pytest.raises(ValueError, match="shipped: resnet18"):
        load("vgg")
