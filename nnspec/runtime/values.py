"""The torch values a forward handles besides arrays: dtypes, devices, finfo/iinfo and named result tuples.

``torch.float32`` in a forward is a :class:`DType`, as is ``x.dtype``; it compares equal to its aliases
(``torch.float``), prints as torch does, and is accepted wherever a dtype is (NumPy reads it through its
``dtype`` attribute). ``x.device`` is a :class:`Device`. ``torch.finfo``/``torch.iinfo`` give the limits of
a dtype with torch's attribute names and values. Reductions that return ``(values, indices)`` return
named tuples, as ``torch.return_types`` does.
"""

from __future__ import annotations

import builtins
from collections import namedtuple
from typing import Any

import numpy

from ..errors import NNSpecRuntimeError


class DType:
    """A torch dtype (``torch.float32``): its canonical torch name and the NumPy dtype behind it."""

    __slots__ = ("name", "dtype")

    def __init__(self, name: str, dtype: Any):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "dtype", numpy.dtype(dtype))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a dtype is immutable")

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    __str__ = __repr__

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, DType) and other.dtype == self.dtype

    def __ne__(self, other: Any) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(("dtype", self.name))

    def __reduce__(self):
        return (dtype_of, (self.name,))

    @property
    def is_floating_point(self) -> bool:
        return self.dtype.kind == "f"

    @property
    def is_signed(self) -> bool:
        return self.dtype.kind in "fi"

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize


_CANONICAL = {"float16": "float16", "float32": "float32", "float64": "float64", "int8": "int8", "int16": "int16",
              "int32": "int32", "int64": "int64", "uint8": "uint8", "bool": "bool"}
_BY_NUMPY = {numpy.dtype(name): DType(name, name) for name in _CANONICAL}
# torch's names, aliases included, for ``torch.<name>`` in a forward
DTYPES: dict[str, DType] = {name: _BY_NUMPY[numpy.dtype(name)] for name in _CANONICAL}
DTYPES.update({"half": DTYPES["float16"], "float": DTYPES["float32"], "double": DTYPES["float64"],
               "short": DTYPES["int16"], "int": DTYPES["int32"], "long": DTYPES["int64"]})
# torch dtypes NumPy has no array type for: named in the error a forward gets
UNSUPPORTED_DTYPES = ("bfloat16", "complex32", "complex64", "complex128", "cfloat", "cdouble", "chalf",
                      "uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2", "qint8", "quint8", "qint32")


def dtype_of(value: Any) -> DType:
    """The DType of a NumPy dtype, an array, or a torch dtype name."""
    if isinstance(value, DType):
        return value
    if isinstance(value, str):
        name = value.removeprefix("torch.")
        if name not in DTYPES:
            raise NNSpecRuntimeError(f"unknown dtype {value!r}")
        return DTYPES[name]
    dt = numpy.dtype(getattr(value, "dtype", value))
    try:
        return _BY_NUMPY[dt]
    except KeyError:
        raise NNSpecRuntimeError(f"dtype {dt} has no torch twin") from None


# --------------------------------------------------------------------------- devices

DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
                "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


class Device:
    """A torch device (``device(type='cpu')``). Arrays live where the model runs: a forward's devices are
    checked for validity and otherwise ignored (an array made with ``device=x.device`` is where x is)."""

    __slots__ = ("type", "index")

    def __init__(self, type: str, index: int | None = None):
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a device is immutable")

    def __repr__(self) -> str:
        return f"device(type={self.type!r}" + (f", index={self.index})" if self.index is not None else ")")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Device) and (other.type, other.index) == (self.type, self.index)

    def __ne__(self, other: Any) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(("device", self.type, self.index))


CPU = Device("cpu")


def device(type: Any = None, index: Any = None) -> Device:
    """torch.device: from a string (``"cpu"``, ``"cuda:1"``), a device, or a CUDA index."""
    if isinstance(type, Device) and index is None:
        return type
    if isinstance(type, int) and not isinstance(type, bool) and index is None:
        if type < 0:
            raise NNSpecRuntimeError(f"Device index must not be negative, got {type}")
        return Device("cuda", type)
    if not isinstance(type, str):
        raise NNSpecRuntimeError(f"device(): argument 'type' must be str, not {builtins.type(type).__name__}")
    kind, colon, number = type.partition(":")
    if kind not in DEVICE_TYPES:
        raise NNSpecRuntimeError(f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device "
                                 f"string: {type}")
    if colon:
        if index is not None:
            raise NNSpecRuntimeError(f"type (string) must not include an index because index was passed "
                                     f"explicitly: {type}")
        if not number.isdigit() or (len(number) > 1 and number[0] == "0"):
            raise NNSpecRuntimeError(f"Invalid device string: '{type}'")
        return Device(kind, int(number))
    if index is not None:
        if isinstance(index, bool) or not isinstance(index, int):
            raise NNSpecRuntimeError(f"device(): argument 'index' must be int, not {builtins.type(index).__name__}")
        if index < 0:
            raise NNSpecRuntimeError(f"Device index must not be negative, got {index}")
    return Device(kind, index)


def device_of_array(x: Any) -> Device:
    """Where an array lives, as torch names it: ``cpu``, ``cuda:N``, or ``meta`` for a shape-only array."""
    module = type(x).__module__
    if module.split(".")[0] == "cupy":
        return Device("cuda", int(x.device.id))
    if module == "nnspec.runtime.meta":
        return Device("meta")
    return CPU


def check_device(value: Any, op: str) -> None:
    """A ``device=`` argument: None, a device, a device string or a CUDA index; checked, then ignored."""
    if value is None or isinstance(value, Device):
        return
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        device(value)
        return
    raise NNSpecRuntimeError(f"{op}(): argument 'device' must be torch.device, not {type(value).__name__}")


# --------------------------------------------------------------------------- finfo and iinfo


class FInfo:
    """torch.finfo(dtype): the limits of a floating-point dtype, as Python floats."""

    __slots__ = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")

    def __init__(self, dt: DType):
        info = numpy.finfo(dt.dtype)
        values = dict(bits=int(info.bits), eps=float(info.eps), max=float(info.max), min=float(info.min),
                      tiny=float(info.tiny), smallest_normal=float(info.smallest_normal),
                      resolution=float(10.0 ** -int(info.precision)), dtype=dt.name)
        for k, v in values.items():
            object.__setattr__(self, k, v)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("finfo is immutable")

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, FInfo) and other.dtype == self.dtype

    def __hash__(self) -> int:
        return hash(("finfo", self.dtype))

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class IInfo:
    """torch.iinfo(dtype): the limits of an integer dtype, as Python ints."""

    __slots__ = ("bits", "max", "min", "dtype")

    def __init__(self, dt: DType):
        info = numpy.iinfo(dt.dtype)
        for k, v in dict(bits=int(info.bits), max=int(info.max), min=int(info.min), dtype=dt.name).items():
            object.__setattr__(self, k, v)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("iinfo is immutable")

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, IInfo) and other.dtype == self.dtype

    def __hash__(self) -> int:
        return hash(("iinfo", self.dtype))

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def _info_dtype(value: Any, op: str) -> DType:
    if isinstance(value, DType):
        return value
    if isinstance(value, str):
        return dtype_of(value)
    raise NNSpecRuntimeError(f"{op}(): argument 'type' must be torch.dtype, not {type(value).__name__}")


def finfo(type: Any = None) -> FInfo:
    """torch.finfo: the default dtype (float32) without an argument."""
    dt = DTYPES["float32"] if type is None else _info_dtype(type, "finfo")
    if not dt.is_floating_point:
        raise NNSpecRuntimeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                                 "'torch.finfo'")
    return FInfo(dt)


def iinfo(type: Any) -> IInfo:
    dt = _info_dtype(type, "iinfo")
    if dt.name == "bool":
        raise NNSpecRuntimeError("torch.bool is not supported by torch.iinfo")
    if dt.is_floating_point:
        raise NNSpecRuntimeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle "
                                 "'torch.iinfo'")
    return IInfo(dt)


# --------------------------------------------------------------------------- named result tuples


def _return_type(name: str, fields: tuple[str, ...]) -> type:
    cls = namedtuple(name, fields)
    cls.__module__ = "torch.return_types"
    cls.__doc__ = f"torch.return_types.{name}: ({', '.join(fields)})"
    return cls


RETURN_TYPES: dict[str, type] = {name: _return_type(name, fields) for name, fields in {
    "max": ("values", "indices"), "min": ("values", "indices"), "aminmax": ("min", "max"),
    "sort": ("values", "indices"), "topk": ("values", "indices"), "cummax": ("values", "indices"),
    "cummin": ("values", "indices"), "median": ("values", "indices"), "mode": ("values", "indices"),
    "kthvalue": ("values", "indices"),
}.items()}


# what ``value.<name>`` may read on each kind of value (besides arrays, whose attributes tensor.py serves)
ATTRIBUTES: dict[type, frozenset[str]] = {
    DType: frozenset({"is_floating_point", "is_signed", "itemsize"}),
    Device: frozenset({"type", "index"}),
    FInfo: frozenset(FInfo.__slots__),
    IInfo: frozenset(IInfo.__slots__),
}


def value_attribute(value: Any, name: str) -> Any:
    """``value.name`` for a dtype, device, finfo/iinfo or named result tuple; anything else is refused."""
    allowed = ATTRIBUTES.get(type(value))
    if allowed is None and isinstance(value, tuple) and hasattr(value, "_fields"):
        allowed = frozenset(value._fields)
    if allowed is None or name not in allowed:
        raise NNSpecRuntimeError(f"{_describe(value)} has no attribute {name!r}"
                                 + (f" (it has {', '.join(sorted(allowed))})" if allowed else ""))
    return getattr(value, name)


def _describe(value: Any) -> str:
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return f"torch.return_types.{type(value).__name__}"
    if isinstance(value, (DType, Device, FInfo, IInfo)):
        return repr(value)
    return f"a value of type {type(value).__name__}"


TORCH_CONSTANTS: dict[str, float] = {"pi": 3.141592653589793, "e": 2.718281828459045, "inf": float("inf"),
                                     "nan": float("nan")}

VALUE_TYPES = (DType, Device, FInfo, IInfo)

__all__ = ["DType", "DTYPES", "Device", "FInfo", "IInfo", "RETURN_TYPES", "TORCH_CONSTANTS", "VALUE_TYPES",
           "check_device", "device", "device_of_array", "dtype_of", "finfo", "iinfo", "value_attribute"]
