"""Options the commands share, and the parsing of their values: shapes (``2,3,224,224``, ``N,3,H,W``), typed
inputs (``int64<1000:8,128``), ``NAME=...`` inputs and ``--arg name=value``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Optional

import typer

from nnspec import builder, static
from nnspec.runtime.symbolic import parse_size


def parse_shape(text: str, symbolic: bool = False) -> tuple:
    """``20,16,50`` (or ``20x16x50``); with ``symbolic``, a size may be a name: ``N,3,H,W``."""
    numeric = all(p.strip().isascii() and p.strip().isdigit() for p in text.split("x"))
    parts = text.replace("x", ",").split(",") if not symbolic or numeric else text.split(",")
    shape = []
    for part in parts:  # every size must be there: "20,,50" or "20,x" is a typo, not the shape (20, 50) or (20,)
        try:
            size = parse_size(part)
        except ValueError:
            size = None
        if isinstance(size, int) or (symbolic and size is not None):
            shape.append(size)
        else:
            example = "N,3,H,W or 2,3,224,224" if symbolic else "20,16,50"
            raise typer.BadParameter(f"{text!r} is not a shape; write it as comma-separated sizes, e.g. {example}",
                                     param_hint="--input-shape")
    if any(isinstance(s, int) and s < 0 for s in shape):
        raise typer.BadParameter(f"{text!r} is not a shape; sizes must be non-negative integers",
                                 param_hint="--input-shape")
    return tuple(shape)


INPUT_DTYPES = ("int64", "int32", "int16", "int8", "uint8", "bool")


@dataclass(frozen=True)
class InputSpec:
    """An --input-shape: the shape, and for an integer or bool input its dtype and the range [0, high) of its
    random values (None: the model's smallest Embedding size, else 2); ``name``: the forward's input it is
    for, where given as NAME=... (None: the next input not given by name)."""

    shape: tuple
    dtype: str | None = None
    high: int | None = None
    name: str | None = None


def input_name(text: str, option: str) -> tuple[str | None, str]:
    """``NAME=rest`` as (NAME, rest) where the text before the first '=' is an identifier, else (None, text):
    so a path such as ``./a=b.npy`` stays a path."""
    name, eq, rest = text.partition("=")
    if not eq or not name.isidentifier():
        return None, text
    if not rest:
        raise typer.BadParameter(f"{text!r}: nothing after '='; write NAME=" + ("FILE" if option == "--input"
                                 else "SHAPE, as in input_ids=int64:8,128"), param_hint=option)
    return name, rest


def parse_input(text: str, symbolic: bool = False) -> InputSpec:
    """``2,3,224,224``, or for an integer input ``int64:8,128`` (ids in [0, high) with ``int64<50257:8,128``);
    ``NAME=`` before either gives the forward's input NAME."""
    name, text = input_name(text, "--input-shape")
    if name is None and "=" in text:  # a shape has no '=': this was meant as NAME=SHAPE
        raise typer.BadParameter(f"{text!r}: {text.partition('=')[0]!r} is not an input name; write NAME=SHAPE, "
                                 "as in input_ids=int64:8,128", param_hint="--input-shape")
    if name is not None:
        return replace(parse_input(text, symbolic), name=name)
    head, colon, rest = text.partition(":")
    if not colon:
        return InputSpec(parse_shape(text, symbolic))
    name, lt, high = head.partition("<")
    if name.strip() not in INPUT_DTYPES:
        raise typer.BadParameter(f"{text!r}: {name!r} is not an input dtype; write {', '.join(INPUT_DTYPES)}, as in "
                                 "int64:8,128 (or int64<50257:8,128 for random ids in [0, 50257))", param_hint="--input-shape")
    bound = None
    if lt:
        if not (high.strip().isascii() and high.strip().isdigit()) or int(high) < 1 or name.strip() == "bool":
            raise typer.BadParameter(f"{text!r}: the bound after '<' must be a positive integer, as in int64<1000:8,128",
                                     param_hint="--input-shape")
        bound = int(high)
    return InputSpec(parse_shape(rest, symbolic), name.strip(), bound)


def random_high(model, spec: InputSpec) -> int:
    """The exclusive bound of a random integer input: as given, else the smallest Embedding's size (token ids
    any embedding of the model can look up), else 2."""
    if spec.high is not None:
        return spec.high
    sizes = [m.num_embeddings for m in model.modules() if hasattr(m, "num_embeddings")]
    return max(min(sizes), 1) if sizes else 2


def named_args(arg: list[str] | None) -> dict[str, str]:
    named = {}
    for item in arg or []:
        name, eq, value = item.partition("=")
        if not eq or not name.isidentifier():
            raise typer.BadParameter(f"{item!r} is not name=value", param_hint="--arg")
        if name in named:
            raise typer.BadParameter(f"input {name!r} is given twice", param_hint="--arg")
        named[name] = value
    return named


def check_names(given: list[tuple[str, str | None]]) -> None:
    """Refuse an input given twice by name, across --input-shape, --input and --arg ((option, name) pairs)."""
    seen: dict[str, str] = {}
    for option, name in given:
        if name is None:
            continue
        if name in seen:
            also = "" if seen[name] == option else f" (also with {seen[name]})"
            raise typer.BadParameter(f"input {name!r} is given twice{also}", param_hint=option)
        seen[name] = option



def check_dtype(dtype: str) -> None:
    if dtype not in ("float32", "float64", "float16"):
        raise typer.BadParameter(f"{dtype!r}; choose float32, float64 or float16", param_hint="--dtype")




DtypeOpt = Annotated[str, typer.Option(metavar="DTYPE", help="Compute dtype: float32, float64 or float16.")]
TrainOpt = Annotated[bool, typer.Option("--train/--eval", help="Mode: train uses batch statistics and dropout.")]
ArgOpt = Annotated[Optional[list[str]], typer.Option(
    "--arg", "-a", metavar="NAME=VALUE", help="A non-array input of a custom forward, as name=value (a string), e.g. choice=conv.")]
SymbolicShapeOpt = Annotated[Optional[list[str]], typer.Option(
    "--input-shape", "-s", metavar="SHAPE", help="Shape of an input, e.g. 2,3,224,224; a size may be a name, as in N,3,H,W. "
    "An integer input (token ids) names its dtype first: int64:N,T. NAME=... is the forward's input NAME "
    "(attention_mask=int64:N,T); the others fill the inputs not given by name, in order, and an input with a "
    "default may be left out. Repeat for several inputs.")]



def infer_setup(model: Path, input_shape: list[str] | None, dtype: str, train: bool, arg: list[str] | None):
    """The shape-only model and, where input shapes are given, what static inference finds."""
    check_dtype(dtype)
    specs_in = [parse_input(s, symbolic=True) for s in input_shape or []]
    named = named_args(arg)
    check_names([("--input-shape", s.name) for s in specs_in] + [("--arg", n) for n in named])

    def body():
        net = builder.load(model, meta=True)
        net.to(dtype)
        if not specs_in:
            return net, None
        return net, static.infer(net, [spec.shape for spec in specs_in], named=named, dtype=dtype, training=train,
                                 input_dtypes=[spec.dtype for spec in specs_in], names=[s.name for s in specs_in])

    return body
