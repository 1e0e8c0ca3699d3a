"""The summary cases: models whose static summary is compared with torchinfo's numbers.

torchinfo runs the torch twin (tests/oracle.py) forward and reports, per module call, the
output shape, parameter count and mult-adds; nnspec infers the same statically. The numbers
are kept in tests/golden/torchinfo.json (made by tests/golden/make_golden.py) so the default
run needs neither torch nor torchinfo; the live suite asks torchinfo itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN_TORCHINFO = Path(__file__).resolve().parent / "golden" / "torchinfo.json"

BASIC_BLOCK = """\
def forward(self, x: Tensor) -> Tensor:
    identity = x

    out = self.conv1(x)
    out = self.bn1(out)
    out = self.relu(out)

    out = self.conv2(out)
    out = self.bn2(out)

    if self.downsample is not None:
        identity = self.downsample(x)

    out += identity
    out = self.relu(out)

    return out
"""

RESNET = """\
def forward(self, x: Tensor) -> Tensor:
    x = self.conv1(x)
    x = self.bn1(x)
    x = self.relu(x)
    x = self.maxpool(x)

    x = self.layer1(x)
    x = self.layer2(x)
    x = self.layer3(x)
    x = self.layer4(x)

    x = self.avgpool(x)
    x = torch.flatten(x, 1)
    x = self.fc(x)

    return x
"""


def _block(inplanes: int, planes: int, stride: int) -> dict:
    down = None
    if stride != 1 or inplanes != planes:
        down = {"Sequential": [{"Conv2d": [inplanes, planes, 1], "stride": stride, "bias": False},
                               {"BatchNorm2d": [planes]}]}
    return {"name": "BasicBlock", "modules": {
        "conv1": {"Conv2d": [inplanes, planes, 3], "stride": stride, "padding": 1, "bias": False},
        "bn1": {"BatchNorm2d": [planes]},
        "relu": {"ReLU": {"inplace": True}},
        "conv2": {"Conv2d": [planes, planes, 3], "padding": 1, "bias": False},
        "bn2": {"BatchNorm2d": [planes]},
        "downsample": down,
    }, "forward": BASIC_BLOCK}


def resnet(layers=(2, 2, 2, 2), num_classes: int = 1000) -> dict:
    """torchvision's resnet18 (layers 2, 2, 2, 2) and its BasicBlock relatives, as a model-file dict."""
    modules: dict = {
        "conv1": {"Conv2d": [3, 64, 7], "stride": 2, "padding": 3, "bias": False},
        "bn1": {"BatchNorm2d": [64]},
        "relu": {"ReLU": {"inplace": True}},
        "maxpool": {"MaxPool2d": {"kernel_size": 3, "stride": 2, "padding": 1}},
    }
    inplanes = 64
    for i, (planes, n) in enumerate(zip((64, 128, 256, 512), layers)):
        blocks = []
        for j in range(n):
            stride = 2 if i > 0 and j == 0 else 1
            blocks.append(_block(inplanes, planes, stride))
            inplanes = planes
        modules[f"layer{i + 1}"] = {"Sequential": blocks}
    modules["avgpool"] = {"AdaptiveAvgPool2d": [[1, 1]]}
    modules["fc"] = {"Linear": [512, num_classes]}
    return {"name": "ResNet", "modules": modules, "forward": RESNET}


@dataclass(frozen=True)
class SummaryCase:
    id: str
    model: dict | str  # a model dict, or a path relative to the repo root
    input: tuple


SUMMARY_CASES = [
    SummaryCase("resnet18_224", resnet(), (1, 3, 224, 224)),
    SummaryCase("resnet10_batch2", resnet((1, 1, 1, 1), 10), (2, 3, 64, 48)),
    SummaryCase("resnet_blocks", "models/resnet_blocks.yaml", (2, 3, 32, 32)),
    SummaryCase("seed_sequential", "models/seed/sequential.yaml", (1, 1, 32, 32)),
    SummaryCase("seed_model_two_convs", "models/seed/model_two_convs.yaml", (1, 1, 28, 28)),
    SummaryCase("seed_shared_submodule", "models/seed/shared_submodule.yaml", (1, 20, 28, 28)),
    SummaryCase("seed_linear", "models/seed/linear.yaml", (128, 20)),
    SummaryCase("seed_batchnorm2d", "models/seed/batchnorm2d.yaml", (2, 100, 7, 9)),
]


def torchinfo_numbers(case: SummaryCase) -> dict:
    """torchinfo's view of the torch twin: every layer call, and the totals (needs torch and torchinfo)."""
    import torch
    import torchinfo
    from oracle import build
    from parity import Case, spec_of

    spec, _ = spec_of(Case(case.id, case.model))
    twin = build(spec).eval()
    with torch.no_grad():
        stats = torchinfo.summary(twin, input_size=case.input, verbose=0, device="cpu")
    layers = [{
        "type": info.class_name, "depth": info.depth, "output": list(info.output_size),
        "params": info.num_params, "macs": info.macs, "leaf": info.is_leaf_layer, "recursive": info.is_recursive,
    } for info in stats.summary_list]
    return {"layers": layers, "total_params": stats.total_params, "trainable_params": stats.trainable_params,
            "total_mult_adds": stats.total_mult_adds}


def load_torchinfo_golden() -> dict:
    return json.loads(GOLDEN_TORCHINFO.read_text())
