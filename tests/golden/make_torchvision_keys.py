"""Write tests/golden/torchvision/<name>.json: torchvision's own view of four reference models.

Run from the repo root, in a venv holding torch==2.14.1 and torchvision==0.29.1 (not the
project's test venv; this script imports only torch and torchvision, never nnspec):

    python3 -m venv /tmp/tvenv && /tmp/tvenv/bin/pip install torch==2.14.1 torchvision==0.29.1
    /tmp/tvenv/bin/python tests/golden/make_torchvision_keys.py

Each model is built with its torchvision constructor, default arguments and weights=None.
lenet5 is not in torchvision, so it has no file here. Each file holds a JSON object:

    model, torchvision, torch       the constructor name and the two versions that wrote it
    state_dict                      [[key, [shape...], dtype], ...] in state_dict order
    params                          sum of numel() over model.parameters()
    output_shape_1x3x224x224        shape of model.eval()(torch.zeros(1, 3, 224, 224))
    modules                         [[qualified_name, class_name], ...] from named_modules(), root ("") first
    repr                            str(model)

Nothing in it depends on the random initialisation, so reruns give identical files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# Running this file puts tests/golden/ first on sys.path, where the output folder
# torchvision/ would pass for a namespace package if the real one were missing.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import torch  # noqa: E402
import torchvision  # noqa: E402
from torchvision import models  # noqa: E402

OUT = Path(__file__).resolve().parent / "torchvision"
MODELS = ["vgg11_bn", "resnet18", "resnet50", "mobilenet_v2"]


def describe(name: str) -> dict:
    torch.manual_seed(0)
    model = getattr(models, name)(weights=None)
    state_dict = [
        [key, list(t.shape), str(t.dtype).removeprefix("torch.")]
        for key, t in model.state_dict().items()
    ]
    params = sum(p.numel() for p in model.parameters())
    model.eval()
    with torch.no_grad():
        out = model(torch.zeros(1, 3, 224, 224))
    modules = [[qual, type(m).__name__] for qual, m in model.named_modules()]
    return {
        "model": name,
        "torchvision": torchvision.__version__,
        "torch": torch.__version__,
        "params": params,
        "output_shape_1x3x224x224": list(out.shape),
        "state_dict": state_dict,
        "modules": modules,
        "repr": str(model),
    }


def dumps(record: dict) -> str:
    """JSON with one state_dict / modules entry per line, so diffs stay readable."""
    lines = ["{"]
    items = list(record.items())
    for i, (key, value) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if key in ("state_dict", "modules"):
            rows = [" " + json.dumps(row) for row in value]
            lines.append(f" {json.dumps(key)}: [")
            lines.append(",\n".join(" " + row for row in rows))
            lines.append(f" ]{comma}")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}: writing to {OUT}")
    for name in MODELS:
        record = describe(name)
        text = dumps(record)
        assert json.loads(text) == record
        (OUT / f"{name}.json").write_text(text)
        print(
            f"{name}: {len(record['state_dict'])} state_dict keys, {record['params']:,} params, "
            f"{len(record['modules'])} modules, output {record['output_shape_1x3x224x224']}"
        )


if __name__ == "__main__":
    main()
