"""The zoo's references: for each model file in models/zoo, the model it reproduces and how to check it.

A reference is the real thing: torchvision's constructor, Hugging Face transformers' model class
with its default (full-size) config, or, for a model no package ships, a torch class written in
tests/twins.py. tests/test_references.py builds each one with random weights, saves its state
the ways people save it (torch.save, safetensors, save_pretrained), and checks that ``nnspec run
--weights`` on each file gives the reference's outputs, that the state_dicts agree key for key
(keys, order, shapes, dtypes), and that ``nnspec summary -s`` agrees with torchinfo.
tests/golden/make_references.py keeps the same checks for a run without torch, in
tests/golden/references/.

Versions. The oracle is torch==2.13.0, a CPU build. torchvision's wheels here are CUDA builds:
0.28.0 is the one that pairs with torch 2.13 (its model code is the same as 0.29.1's, which the
zoo's files follow), but its C extension cannot load beside a CPU torch. So CI installs
``torchvision==0.28.0 --no-deps``, and :func:`import_torchvision` imports it without its C
operators, which no model's forward needs. transformers==5.25.0 and safetensors==0.8.0 are pinned
beside it (.ci/run).

Saved layouts found with these versions (each row's ``notes`` says which apply):

- GPT-2 (GPT2LMHeadModel): ``lm_head.weight`` is tied to ``transformer.wte.weight`` (one Parameter).
  ``state_dict()`` has both keys (149), and ``torch.save`` of it writes 148 storages, the two keys
  sharing one. ``safetensors.torch.save_file`` refuses the state_dict ("Some tensors share memory");
  ``safetensors.torch.save_model`` keeps ``lm_head.weight`` and drops ``transformer.wte.weight``;
  ``save_pretrained`` keeps ``transformer.wte.weight`` and drops ``lm_head.weight`` (148 keys,
  model.safetensors). transformers 5 registers no attention-mask buffers (4.x's ``attn.bias`` and
  ``attn.masked_bias`` are gone): GPT-2 has no buffers at all.
- BERT (BertModel): the buffers ``embeddings.position_ids`` and ``embeddings.token_type_ids``
  (int64, (1, 512)) are not persistent: in no saved file. 199 keys in state_dict, torch.save,
  save_file and save_pretrained alike.
- A safetensors file lists its keys sorted by name, not in state_dict order.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import sys
import types
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ZOO_DIR = ROOT / "models" / "zoo"
GOLDEN_REFERENCES = Path(__file__).resolve().parent / "golden" / "references"

# the versions .ci/run pins; the goldens record the ones that wrote them
PINNED = {"torch": "2.13.0", "torchvision": "0.28.0", "transformers": "5.25.0", "safetensors": "0.8.0"}


@dataclass(frozen=True)
class Arg:
    """One input of the forward: ``float`` (standard normal), ``ids`` (token ids below ``high``),
    ``mask`` (an int64 attention mask of ones, each row's tail zero, as padding) or ``types``
    (token type ids: 0 for the first half, 1 after)."""

    name: str
    shape: tuple[int, ...]
    kind: str = "float"
    high: int = 0


@dataclass(frozen=True)
class Reference:
    name: str  # models/zoo/<name>.yaml
    source: str  # torchvision | transformers | twin
    constructor: str  # importable "module.attr"; called with weights=None (torchvision) or the config
    inputs: tuple[tuple[Arg, ...], ...]  # the input sets, each in the forward's order
    outputs: tuple[str, ...] = ("output",)  # names of the compared outputs (a ModelOutput's fields)
    files: tuple[str, ...] = ("pt", "safetensors")  # how the state is saved: see save_reference()
    config: str | None = None  # transformers: the config class, built with its defaults
    call: dict = field(default_factory=dict)  # extra keyword arguments of the reference's call
    same_repr: bool = True  # nnspec's repr, module tree and layer types are the reference's
    golden_view: dict = field(default_factory=dict)  # output name -> index: the slice the golden keeps
    notes: str = ""

    @property
    def path(self) -> Path:
        return ZOO_DIR / f"{self.name}.yaml"

    @property
    def exists(self) -> bool:
        return self.path.exists()


def image(*shape: int) -> tuple[Arg, ...]:
    return (Arg("x", shape),)


GPT2_NOTES = ("lm_head.weight is tied to transformer.wte.weight. torch.save: both keys (149, 148 storages); "
              "save_model: no transformer.wte.weight; save_pretrained: no lm_head.weight (148 each). "
              "save_file refuses the tied state_dict.")
BERT_NOTES = "position_ids and token_type_ids are non-persistent buffers: in no file (199 keys in each)."

BERT_INPUTS = (
    (Arg("input_ids", (2, 16), "ids", 30522), Arg("attention_mask", (2, 16), "mask"),
     Arg("token_type_ids", (2, 16), "types")),
    (Arg("input_ids", (1, 40), "ids", 30522), Arg("attention_mask", (1, 40), "mask"),
     Arg("token_type_ids", (1, 40), "types")),
)

REFERENCES = [
    Reference("lenet5", "twin", "twins.LeNet5", (image(2, 1, 32, 32), image(5, 1, 32, 32))),
    Reference("unet", "twin", "twins.UNet", (image(1, 3, 64, 64), image(2, 3, 61, 75)),
              notes="odd sizes: the upsampled maps are padded to their skips' sizes"),
    Reference("vgg11_bn", "torchvision", "torchvision.models.vgg11_bn", (image(1, 3, 96, 96), image(2, 3, 64, 64)),
              notes="small images: its 133 M parameters are in the classifier, and 3x3 and 2x2 feature maps "
                    "exercise the adaptive pooling to 7x7"),
    Reference("resnet18", "torchvision", "torchvision.models.resnet18", (image(1, 3, 224, 224), image(2, 3, 160, 160))),
    Reference("resnet50", "torchvision", "torchvision.models.resnet50", (image(1, 3, 224, 224), image(2, 3, 160, 160))),
    Reference("mobilenet_v2", "torchvision", "torchvision.models.mobilenet_v2",
              (image(1, 3, 224, 224), image(2, 3, 160, 160))),
    Reference("vit_b_16", "torchvision", "torchvision.models.vit_b_16", (image(1, 3, 224, 224), image(2, 3, 224, 224)),
              notes="image_size 224 is asserted: two batch sizes. heads.head is initialised to zeros "
                    "(the randomisation redraws it, else the output would not depend on the input)"),
    Reference("swin_t", "torchvision", "torchvision.models.swin_t", (image(1, 3, 224, 224), image(2, 3, 160, 160)),
              notes="160: the stages' 40, 20, 10, 5 are padded to the 7x7 window"),
    Reference("convnext_tiny", "torchvision", "torchvision.models.convnext_tiny",
              (image(1, 3, 224, 224), image(2, 3, 160, 160)),
              notes="layer_scale is initialised to 1e-6 (redrawn, else the blocks would barely count)"),
    Reference("efficientnet_b0", "torchvision", "torchvision.models.efficientnet_b0",
              (image(1, 3, 224, 224), image(2, 3, 160, 160))),
    Reference("mobilenet_v3_large", "torchvision", "torchvision.models.mobilenet_v3_large",
              (image(1, 3, 224, 224), image(2, 3, 160, 160))),
    Reference("densenet121", "torchvision", "torchvision.models.densenet121",
              (image(1, 3, 224, 224), image(2, 3, 160, 160))),
    Reference("gpt2", "transformers", "transformers.GPT2LMHeadModel",
              ((Arg("input_ids", (2, 16), "ids", 50257),), (Arg("input_ids", (1, 40), "ids", 50257),)),
              outputs=("logits",), files=("pt", "save_model", "save_pretrained"), config="transformers.GPT2Config",
              call={"use_cache": False},
              golden_view={"logits": (Ellipsis, slice(None, None, 97))}, notes=GPT2_NOTES),
    Reference("bert_base", "transformers", "transformers.BertModel", BERT_INPUTS,
              outputs=("last_hidden_state", "pooler_output"), files=("pt", "safetensors", "save_pretrained"),
              config="transformers.BertConfig",
              golden_view={"last_hidden_state": (Ellipsis, slice(None, None, 4))}, notes=BERT_NOTES),
]
BY_NAME = {r.name: r for r in REFERENCES}

# --------------------------------------------------------------------------- inputs (no torch)


def make_inputs(ref: Reference, i: int) -> dict[str, np.ndarray]:
    """Input set ``i`` of ``ref``, drawn from a seed of its own: the same arrays on every run."""
    rng = np.random.default_rng(zlib.crc32(f"references/{ref.name}/{i}".encode()))
    out = {}
    for arg in ref.inputs[i]:
        if arg.kind == "float":
            out[arg.name] = rng.standard_normal(arg.shape).astype(np.float32)
        elif arg.kind == "ids":
            out[arg.name] = rng.integers(0, arg.high, arg.shape).astype(np.int64)
        elif arg.kind == "mask":  # row r keeps its first T - (r + 1) * T // 5 tokens: every row has padding
            n, t = arg.shape
            out[arg.name] = (np.arange(t)[None, :] < t - (np.arange(n)[:, None] + 1) * t // 5).astype(np.int64)
        elif arg.kind == "types":
            n, t = arg.shape
            out[arg.name] = np.broadcast_to((np.arange(t) >= t // 2).astype(np.int64), (n, t)).copy()
        else:
            raise ValueError(f"unknown input kind {arg.kind!r}")
    return out


def digest(a: np.ndarray) -> str:
    """sha256 of an array's dtype, shape and bytes: a golden names its inputs by it instead of storing them."""
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def shape_arg(a: np.ndarray) -> str:
    """``nnspec summary -s``'s spelling of an input's shape: 1,3,224,224 or int64:2,16."""
    sizes = ",".join(map(str, a.shape))
    return sizes if a.dtype.kind == "f" else f"{a.dtype}:{sizes}"


def nnspec_outputs(ref: Reference, y: Any) -> dict[str, np.ndarray]:
    """nnspec's return value by the reference's output names: an array, a tuple in that order, or a dict."""
    if isinstance(y, dict):
        return {name: np.asarray(y[name]) for name in ref.outputs}
    ys = list(y) if isinstance(y, (tuple, list)) else [y]
    assert len(ys) == len(ref.outputs), f"nnspec returned {len(ys)} outputs, the reference {len(ref.outputs)}"
    return {name: np.asarray(v) for name, v in zip(ref.outputs, ys)}


def view(ref: Reference, name: str, a: np.ndarray) -> np.ndarray:
    """The part of an output a golden keeps (every 97th of GPT-2's 50,257 logits, every 4th of BERT's
    hidden features), so that no golden file is much over 100 kB."""
    index = ref.golden_view.get(name)
    return a if index is None else np.ascontiguousarray(a[index])


def redrawn(state: dict, name: str) -> dict[str, np.ndarray]:
    """``state`` as arrays, with the entries a fresh initialisation leaves at values that hide mistakes drawn
    anew (seeded by ``name``): every 1-d float entry (biases, norms), and every float entry whose elements are
    all equal (a zero-initialised head, a layer scale of 1e-6, a class token of zeros).

    The scales are a trained model's, not larger: a norm's weight (all ones) becomes 1 + 0.2 N(0, 1), another
    vector (one dimension above 1) 0.05 N(0, 1), a matrix 0.02 N(0, 1). tests/zoo.py draws every 1-d entry
    from 0.5 N(0, 1); in BERT, biases that size drown the input (its outputs move by 4e-7 of their size when
    every input id changes), so a wrong attention mask would pass. Batch-norm statistics are not drawn at
    all but measured (:func:`calibrate`): drawn ones, unrelated to the activations they normalise, shrink
    them layer after layer until MobileNetV2's or EfficientNet-B0's output is its classifier's bias alone.
    """
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    out = {}
    for key, value in state.items():
        a = np.asarray(value)
        dtype, vector = a.dtype, sum(d > 1 for d in a.shape) <= 1
        if a.dtype.kind == "f" and a.size and (a.ndim == 1 or a.size > 1 and a.flat[0] == a.flat[-1]
                                               and bool((a == a.flat[0]).all())):
            if vector and bool((a == 1).all()):
                a = 1 + 0.2 * rng.standard_normal(a.shape)
            else:
                a = rng.standard_normal(a.shape) * (0.05 if vector else 0.02)
            a = a.astype(dtype)
        out[key] = a
    return out


BATCH_NORMS = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")


def calibration_batch(ref: Reference) -> np.ndarray:
    """Two images the size of the first input set's, from a seed of their own."""
    rng = np.random.default_rng(zlib.crc32(f"calibration/{ref.name}".encode()))
    return rng.standard_normal((2, *ref.inputs[0][0].shape[1:])).astype(np.float32)


def calibrate(ref: Reference, model) -> None:
    """Set every batch norm's running statistics to those of :func:`calibration_batch`'s activations, as
    training leaves them: the batch norms alone run in train mode, with momentum None (a plain average),
    for one call. For a torch reference and an nnspec model alike (their modules have the same names)."""
    norms = [m for m in model.modules() if type(m).__name__ in BATCH_NORMS]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
        m.train()
    x = calibration_batch(ref)
    if type(model).__module__.startswith("nnspec"):
        model(x)
    else:
        import torch

        with torch.no_grad():
            model(torch.from_numpy(x))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
        m.eval()


def golden_model(ref: Reference):
    """nnspec's model as a golden's outputs were computed: its own seeded weights (``nnspec.load(path,
    seed=0)``), redrawn and calibrated as the live references are, in eval mode."""
    import nnspec

    model = nnspec.load(ref.path, seed=0).eval()
    model.load_state_dict(redrawn(model.state_dict(), f"golden/{ref.name}"))
    calibrate(ref, model)
    return model


def state_layout(state: dict) -> list[list]:
    """[[key, [shape...], dtype], ...] in state_dict order, for torch's and nnspec's state alike."""
    return [[k, list(v.shape), str(v.dtype).removeprefix("torch.")] for k, v in state.items()]


# --------------------------------------------------------------------------- the references (need torch)


def _without_torchvision_ops() -> None:
    """Let torchvision import beside a CPU torch. torchvision 0.28.0's wheels here are CUDA builds whose
    C extension does not load, and then the import fails in torchvision._meta_registrations, which
    registers fake kernels for its C operators ('operator torchvision::nms does not exist'). Only
    detection and video code calls those operators; the classification models are plain torch. A
    stand-in module takes its place. transformers imports torchvision when it is installed, so this
    comes before transformers too. It is the one place this is done."""
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))


def import_torchvision():
    _without_torchvision_ops()
    return importlib.import_module("torchvision")


def import_transformers():
    _without_torchvision_ops()
    return importlib.import_module("transformers")


def missing_packages(ref: Reference) -> list[str]:
    """The packages ``ref`` needs that are not installed (torch, and its reference package)."""
    need = ["torch"] + ({"torchvision": ["torchvision"], "transformers": ["transformers", "safetensors"]}
                        .get(ref.source, []))
    if "safetensors" in ref.files or "save_model" in ref.files:
        need.append("safetensors")
    return [p for p in dict.fromkeys(need) if importlib.util.find_spec(p) is None]


def _resolve(dotted: str):
    module, _, attr = dotted.rpartition(".")
    if module == "torchvision.models":
        return getattr(import_torchvision().models, attr)
    if module == "transformers":
        return getattr(import_transformers(), attr)
    return getattr(importlib.import_module(module), attr)


def build_reference(ref: Reference, seed: str = "live"):
    """The reference with torch's random initialisation (seeded), in eval mode."""
    import torch

    torch.manual_seed(zlib.crc32(f"{seed}/{ref.name}".encode()))
    cls = _resolve(ref.constructor)
    if ref.source == "torchvision":
        model = cls(weights=None)
    elif ref.source == "transformers":
        # the default config: the full-size model the zoo file describes; eager attention is the plain
        # softmax(q k^T / sqrt(d) + mask) v of the model's own code
        model = cls(_resolve(ref.config)(attn_implementation="eager"))
    else:
        model = cls()
    return model.eval()


def load_state(model, state: dict[str, np.ndarray]) -> None:
    """Load arrays into a torch reference, every key (strict)."""
    import torch

    model.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()}, strict=True)


def prepare_reference(ref: Reference, model) -> None:
    """Give the reference weights that hide no mistake: entries torch initialises to constants or leaves
    1-d redrawn (:func:`redrawn`), batch-norm statistics measured (:func:`calibrate`)."""
    load_state(model, redrawn({k: v.numpy() for k, v in model.state_dict().items()}, f"live/{ref.name}"))
    calibrate(ref, model)


def run_reference(ref: Reference, model, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The reference's outputs on ``inputs``, by name."""
    import torch

    with torch.no_grad():
        args = {k: torch.from_numpy(v) for k, v in inputs.items()}
        y = model(*args.values()) if ref.source != "transformers" else model(**args, **ref.call)
    if isinstance(y, torch.Tensor):
        return {ref.outputs[0]: y.numpy()}
    return {name: getattr(y, name).numpy() for name in ref.outputs}


def depends_on_input(ref: Reference, model, inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> float:
    """How much the reference's outputs change when its first input does (another draw of an image, every
    token id one higher), relative to their size: the least over the outputs. Near 0, the weights drown the
    input, and a comparison within 1e-4 would prove little."""
    first, x = ref.inputs[0][0].name, dict(inputs)
    a = x[first]
    x[first] = (a + 1) % ref.inputs[0][0].high if a.dtype.kind == "i" else \
        np.random.default_rng(1).standard_normal(a.shape).astype(a.dtype)
    other = run_reference(ref, model, x)
    return min(float(np.abs(other[k] - y).max() / np.abs(y).max()) for k, y in outputs.items())


def save_reference(ref: Reference, model, folder: Path) -> dict[str, Path]:
    """The reference's state written each way ``ref.files`` names, as people write it:

    pt               torch.save(model.state_dict())
    safetensors      safetensors.torch.save_file(model.state_dict())
    save_model       safetensors.torch.save_model(model): what save_file's refusal of tied weights advises
    save_pretrained  model.save_pretrained(folder), which writes model.safetensors (and config.json)
    """
    import torch

    out = {}
    for kind in ref.files:
        if kind == "pt":
            torch.save(model.state_dict(), path := folder / f"{ref.name}.pt")
        elif kind == "safetensors":
            from safetensors.torch import save_file

            save_file(model.state_dict(), path := folder / f"{ref.name}.safetensors")
        elif kind == "save_model":
            from safetensors.torch import save_model

            save_model(model, path := folder / f"{ref.name}_save_model.safetensors")
        elif kind == "save_pretrained":
            model.save_pretrained(folder / f"{ref.name}_pretrained")
            path = folder / f"{ref.name}_pretrained" / "model.safetensors"
        else:
            raise ValueError(f"unknown way to save {kind!r}")
        out[kind] = path
    return out


TORCHINFO_FIELDS = ("name", "type", "output", "params", "leaf", "recursive")  # what a golden keeps of a layer


def torchinfo_of(ref: Reference, model, inputs: dict[str, np.ndarray]) -> dict:
    """torchinfo's numbers for the reference on ``inputs`` (see summaries.torchinfo_summary)."""
    import torch
    from summaries import torchinfo_summary

    args = {k: torch.from_numpy(v) for k, v in inputs.items()}
    data = dict(args, **ref.call) if ref.source == "transformers" else list(args.values())
    return torchinfo_summary(model, input_data=data)


def versions() -> dict[str, str]:
    out = {}
    for package in PINNED:
        try:
            out[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out
