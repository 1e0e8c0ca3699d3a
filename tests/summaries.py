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
    from oracle import build
    from parity import Case, spec_of

    spec, _ = spec_of(Case(case.id, case.model))
    return torchinfo_summary(build(spec).eval(), input_size=case.input)


def torchinfo_summary(module, input_size=None, input_data=None) -> dict:
    """torchinfo's view of a torch module: every layer (with its dotted name, and whether it ran: a
    ModuleList is listed, never called), and the totals (needs torch and torchinfo)."""
    import torch
    import torchinfo

    with torch.no_grad():
        stats = torchinfo.summary(module, input_size=input_size, input_data=input_data, verbose=0, device="cpu")
    layers = [{
        "type": info.class_name, "depth": info.depth, "output": list(info.output_size),
        "params": info.num_params, "macs": info.macs, "leaf": info.is_leaf_layer, "recursive": info.is_recursive,
        "name": _dotted(info), "executed": info.executed,
    } for info in stats.summary_list]
    return {"layers": layers, "total_params": stats.total_params, "trainable_params": stats.trainable_params,
            "total_mult_adds": stats.total_mult_adds}


def _dotted(info) -> str:
    names = []
    while info.parent_info is not None:
        names.append(info.var_name)
        info = info.parent_info
    return ".".join(reversed(names))


def _shapes(output) -> list:
    """The shapes a layer row's output holds: its own, or each array's of a tuple or dict."""
    if isinstance(output, dict):
        return [s for v in output.values() for s in _shapes(v)]
    if isinstance(output, list) and output and isinstance(output[0], (list, dict)):
        return [s for v in output for s in _shapes(v)]
    return [output]


def summary_disagreements(rows: list[dict], ti: dict, types: bool = True) -> list[str]:
    """Where ``nnspec summary --format json``'s layer rows disagree with torchinfo's layers: the module
    calls in call order (nnspec's functional-op rows and torchinfo's never-called containers left out),
    each one's output shape, a leaf's parameter count (unless either side counted it before: a shared
    module, a tied weight) and, with ``types``, its class name. The totals are the caller's to check.
    A module returning several arrays shows one in torchinfo (a tuple's first, a ModelOutput's last field):
    it must be one of nnspec's; where torchinfo could size none (a cache object), there is nothing to ask."""
    mine = [r for r in rows if not r["op"]]
    theirs = [t for t in ti["layers"] if t.get("executed", True)]
    out = []
    if len(mine) != len(theirs):
        out.append(f"nnspec lists {len(mine)} module calls, torchinfo {len(theirs)}")
    for i, (m, t) in enumerate(zip(mine, theirs)):
        where = f"call {i} ({m['name']} {m['type']}; torchinfo's {t.get('name', '?')} {t['type']})"
        if types and m["type"] != t["type"]:
            out.append(f"{where}: type {m['type']} against {t['type']}")
        if t["output"] and t["output"] not in _shapes(m["output"]):
            out.append(f"{where}: output {m['output']} against {t['output']}")
        counted_before = m["shared"] or m["called_before"] or t["recursive"]
        if t["leaf"] and not counted_before and m["params"] != t["params"]:
            out.append(f"{where}: {m['params']} parameters against {t['params']}")
        if len(out) >= 10:
            out.append("...")
            break
    return out


def load_torchinfo_golden() -> dict:
    return json.loads(GOLDEN_TORCHINFO.read_text())
