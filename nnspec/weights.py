"""Weight files: load a state_dict from .npz, .safetensors or torch.save archives, and save one.

A weight file is untrusted input, as a model file is. Nothing here imports torch
or runs code from a file: a torch archive's pickle is read by an unpickler that
admits only the few globals a state_dict is made of, each mapped to a local,
checked implementation; every size a file declares is checked against the bytes
it holds and against a memory limit before anything is allocated.

Every mistake is a one-line :class:`~nnspec.errors.WeightsError` placed at the
file (``weights.pt: storage 'archive/data/3' is missing``), never a traceback.
"""

from __future__ import annotations

import _compat_pickle
import io
import json
import math
import os
import pickle
import pickletools
import re
import reprlib
import struct
import uuid
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy
from numpy.lib import format as npy_format
from numpy.lib.stride_tricks import as_strided

from .errors import Position, WeightsError
from .progress import Progress, quiet
from .nn import Module, Parameter
from .nn.lazy import is_lazy
from .resources import available_memory
from .runtime.backend import to_numpy

MAX_PICKLE_BYTES = 64 << 20  # a state_dict's pickle is a few KB per tensor; 64 MiB is ~100,000 tensors
MAX_SAFETENSORS_HEADER = 100 << 20  # the safetensors format's own limit
MAX_NDIM = 64  # NumPy's limit
# tensors a weight file may hold: a large model's checkpoint shard holds a few thousand; reading costs time per
# tensor (a zip entry, a header entry), and this keeps a file of empty tensors from taking minutes
MAX_TENSORS = 50_000
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model")  # checkpoint dicts that hold a state_dict
MAX_WRAPPER_DEPTH = 4
TORCH_OTHER_ENTRIES = 16  # a torch.save archive's entries besides its storages: data.pkl, byteorder, version, ...
TORCH_SUFFIXES = (".pt", ".pth", ".bin")
SUFFIXES = (".npz", ".safetensors", *TORCH_SUFFIXES)
NUMERIC_KINDS = "biuf"  # bool, signed, unsigned, float: nnspec has no complex dtypes


class _Budget:
    """Bytes a load may read and allocate, counted as it goes; None means no limit. ``progress`` (see
    :data:`nnspec.progress.Progress`) hears of each array taken, against ``size``, the file's size."""

    def __init__(self, limit: int | None, what: str, progress: Progress | None = None, size: int = 0):
        self.limit = limit
        self.what = what
        self.used = 0
        self.progress = progress
        self.size = size

    def check(self, nbytes: int, what: str) -> None:
        if self.limit is not None and nbytes > self.limit:
            raise WeightsError(f"{what} needs {nbytes:,} bytes, more than the limit of {self.limit:,} bytes "
                               f"({self.what})")

    def take(self, nbytes: int, what: str) -> None:
        self.used += nbytes
        if self.limit is not None and self.used > self.limit:
            raise WeightsError(f"with {what}, loading needs {self.used:,} bytes, more than the limit of "
                               f"{self.limit:,} bytes ({self.what})")
        if self.progress is not None:  # arrays may take more than the file holds (bfloat16 read as float32)
            self.progress("reading", min(self.used, self.size), self.size)


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def _check_count(n: int, what: str = "tensors") -> None:
    if n > MAX_TENSORS:
        raise WeightsError(f"the file has {n:,} {what}, more than {MAX_TENSORS:,} tensors (the limit of a "
                           "weight file)")


def _check_numeric(dtype: numpy.dtype, key: str) -> None:
    if dtype.hasobject:
        raise WeightsError(f"{key!r} holds Python objects (dtype object); a weight file holds numbers only")
    if dtype.kind == "c":
        raise WeightsError(f"{_brief(key, MAX_KEY)} has dtype {dtype}, a complex type, which is not supported "
                           "(nnspec's tensors are real: bool, integer or floating point)")
    if dtype.kind not in NUMERIC_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise WeightsError(f"{key!r} has dtype {dtype}, not a numeric tensor type")


# --------------------------------------------------------------------------- loading

def load_weights(path: str | os.PathLike, *, max_bytes: int | None = None,
                 progress: Progress | None = None) -> dict[str, numpy.ndarray]:
    """A state_dict (names to host arrays, in the file's order) read from a .npz, .safetensors, .pt, .pth or .bin file.

    ``.safetensors`` keeps no insertion order (the format sorts its keys), so its
    tensors come in the order of their data in the file; bfloat16 becomes float32.
    ``max_bytes`` bounds what a load may read and allocate (default: the memory free).
    ``progress`` hears ``("reading", bytes read, the file's size)`` as the arrays come.
    """
    name = os.fspath(path)
    p = Path(name)
    limit, what = (max_bytes, "the memory limit") if max_bytes is not None else (available_memory(), "the memory free")
    budget = _Budget(limit, what, progress)
    kind = p.suffix.lower()
    try:
        if progress is not None and p.is_file():
            budget.size = p.stat().st_size
            progress("reading", 0, budget.size)
        if not p.exists():
            raise WeightsError("no such weight file")
        if p.is_dir():
            raise WeightsError("is a directory, not a weight file")
        if not p.is_file():
            raise WeightsError("is not a regular file (a device or a pipe?)")
        if kind not in SUFFIXES:
            raise WeightsError(f"unknown weight file suffix {p.suffix or '(none)'!r}; "
                               f"expected one of {', '.join(SUFFIXES)}")
        if kind == ".npz":
            return _load_npz(p, budget)
        if kind == ".safetensors":
            return _load_safetensors(p, budget)
        return _load_torch(p, budget)
    except WeightsError as e:
        raise (e if e.position is not None else WeightsError(e.message, position=Position(name))) from None
    except OSError as e:
        raise WeightsError(f"cannot read weight file: {e.strerror or _one_line(e)}", position=Position(name)) from None
    except MemoryError:
        raise WeightsError("out of memory while loading weights", position=Position(name)) from None
    except Exception as e:  # noqa: BLE001 - a malformed file may trip any parser; it is still the file's mistake
        message = f"corrupt {kind} file ({type(e).__name__}: {_one_line(e)})"
        raise WeightsError(message, position=Position(name)) from None


def _check_entry(info: zipfile.ZipInfo, budget: _Budget) -> None:
    """Refuse a zip entry whose declared size cannot be held, before reading it."""
    budget.check(info.file_size, f"zip entry {info.filename!r}")


# .npz ----------------------------------------------------------------------

def _zip_entry_count(p: Path) -> int:
    """The number of entries a zip's end-of-central-directory record declares, read before the directory is
    (0 where it can't be told: the count of ``infolist()`` is checked after, before any entry is read)."""
    end_record = getattr(zipfile, "_EndRecData", None)  # the stdlib's own reader of that record (zip64 included);
    if end_record is None:  # private, so a Python without it falls back to the directory's count
        return 0
    with open(p, "rb") as f:
        record = end_record(f)
    return record[getattr(zipfile, "_ECD_ENTRIES_TOTAL", 4)] if record else 0


def _load_npz(p: Path, budget: _Budget) -> dict[str, numpy.ndarray]:
    """Each array's header checked against its entry's size and the budget, then its data read, one entry at a time
    (what is allocated never passes the budget)."""
    if not zipfile.is_zipfile(p):
        raise WeightsError("not an .npz archive (not a zip file)")
    _check_count(_zip_entry_count(p), "arrays")
    arrays = {}
    with zipfile.ZipFile(p) as zf:
        infos = zf.infolist()
        _check_count(len(infos), "arrays")
        for info in infos:  # each entry by its own name: NpzFile's lookup maps "w" and "w.npy" alike
            if not info.filename.endswith(".npy"):
                raise WeightsError(f"entry {info.filename!r} is not a .npy array")
            key = info.filename[:-4]
            if key in arrays:
                raise WeightsError(f"array {key!r} appears twice")
            _check_entry(info, budget)
            with zf.open(info) as f:
                version = npy_format.read_magic(f)
                if version == (1, 0):
                    shape, fortran, dtype = npy_format.read_array_header_1_0(f)
                elif version == (2, 0):
                    shape, fortran, dtype = npy_format.read_array_header_2_0(f)
                else:
                    raise WeightsError(f"array {key!r} has .npy format version {version}, expected 1.0 or 2.0")
                _check_numeric(dtype, key)
                count = math.prod(shape)
                nbytes = count * dtype.itemsize
                if nbytes > info.file_size:
                    raise WeightsError(f"array {key!r} declares {nbytes:,} bytes of data, "
                                       f"but its entry holds {info.file_size:,}")
                budget.take(nbytes, f"array {key!r}")
                flat = numpy.empty(count, dtype=dtype)
                if f.readinto(memoryview(flat.view(numpy.uint8))) != nbytes:
                    raise WeightsError(f"array {key!r} holds fewer bytes than its shape {list(shape)} needs")
            array = flat.reshape(shape[::-1]).transpose() if fortran else flat.reshape(shape)
            arrays[key] = array if array.dtype.isnative else array.astype(array.dtype.newbyteorder("="))
    return arrays


# .safetensors ----------------------------------------------------------------

_SAFETENSORS_DTYPES = {
    "BOOL": numpy.dtype(bool), "U8": numpy.dtype("u1"), "I8": numpy.dtype("i1"),
    "U16": numpy.dtype("<u2"), "I16": numpy.dtype("<i2"), "U32": numpy.dtype("<u4"), "I32": numpy.dtype("<i4"),
    "U64": numpy.dtype("<u8"), "I64": numpy.dtype("<i8"), "F16": numpy.dtype("<f2"), "F32": numpy.dtype("<f4"),
    "F64": numpy.dtype("<f8"),
    "BF16": numpy.dtype("<u2"),  # read as raw bits, widened to float32
}


def _bf16_to_float32(bits: numpy.ndarray) -> numpy.ndarray:
    """bfloat16 bit patterns (uint16) as float32: bfloat16 is float32's upper half."""
    return (bits.astype(numpy.uint32) << 16).view(numpy.float32)


def _is_count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


JSON_VALUE_BYTES = 64  # what one JSON value (a number, a list, a dict entry) takes as a Python object, about


def _counted_objects() -> Callable[[list], dict]:
    """A json object_pairs_hook that refuses more JSON objects than MAX_TENSORS tensors have (one each, and the
    header's and metadata's own), as they are parsed: a header of a million empty tensors stops early."""
    count = 0

    def hook(pairs: list) -> dict:
        nonlocal count
        count += 1
        if count > MAX_TENSORS + 2:
            raise WeightsError(f"the header has more than {MAX_TENSORS:,} tensors (the limit of a weight file)")
        return dict(pairs)

    return hook


def _load_safetensors(p: Path, budget: _Budget) -> dict[str, numpy.ndarray]:
    """Parse the header here (bounded: its size, its JSON values and its tensors are counted first), check it again
    through safetensors, and read each tensor here (bfloat16, which NumPy lacks, widened; in the file's order)."""
    try:
        from safetensors import safe_open
    except ImportError:
        raise WeightsError("reading .safetensors needs the safetensors package (pip install safetensors)") from None
    size = p.stat().st_size
    with open(p, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise WeightsError(f"too short for a .safetensors file ({size} bytes)")
        (n,) = struct.unpack("<Q", head)
        if n > min(size - 8, MAX_SAFETENSORS_HEADER):
            raise WeightsError(f"header length {n:,} is larger than the file or the format's limit; "
                               "not a .safetensors file?")
        budget.check(n, "the header")
        text = f.read(n)
        # before the JSON is parsed: what its values will take as Python objects, and how many tensors it has
        budget.check(JSON_VALUE_BYTES * (text.count(b",") + text.count(b"[") + text.count(b"{") + 1),
                     f"the header's JSON values ({n:,} bytes of JSON)")
        try:
            header = json.loads(text.decode("utf-8"), object_pairs_hook=_counted_objects())
        except (UnicodeDecodeError, ValueError) as e:
            raise WeightsError(f"header is not valid JSON ({_one_line(e)})") from None
        if not isinstance(header, dict):
            raise WeightsError("header is not a JSON object")
        data_size = size - 8 - n
        entries = []  # (begin, end, key, dtype name, shape)
        for key, info in header.items():
            if key == "__metadata__":
                continue
            if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= info.keys():
                raise WeightsError(f"header entry {key!r} lacks dtype, shape or data_offsets")
            dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
            if dtype not in _SAFETENSORS_DTYPES:
                raise WeightsError(f"tensor {key!r} has dtype {dtype!r}, which NumPy cannot hold")
            if not (isinstance(shape, list) and len(shape) <= MAX_NDIM and all(_is_count(s) for s in shape)):
                raise WeightsError(f"tensor {key!r} has an invalid shape {shape!r}")
            if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(o) for o in offsets)
                    and offsets[0] <= offsets[1] <= data_size):
                raise WeightsError(f"tensor {key!r} has data_offsets {offsets!r} outside the file's "
                                   f"{data_size:,} data bytes")
            nbytes = math.prod(shape) * _SAFETENSORS_DTYPES[dtype].itemsize
            if offsets[1] - offsets[0] != nbytes:
                raise WeightsError(f"tensor {key!r} of shape {shape} and dtype {dtype} needs {nbytes:,} bytes, "
                                   f"but its data_offsets {offsets} span {offsets[1] - offsets[0]:,}")
            budget.take(nbytes * (2 if dtype == "BF16" else 1), f"tensor {key!r}")
            entries.append((offsets[0], offsets[1], key, dtype, shape))
        entries.sort(key=lambda e: e[0])  # stable: ties (empty tensors) keep the header's order
        out = {}
        with safe_open(str(p), framework="np"):  # validates the header again, in the format's own terms
            pass
        for begin, end, key, dtype, shape in entries:  # read here, in the file's order: one read per tensor
            f.seek(8 + n + begin)
            array = numpy.empty(shape, dtype=_SAFETENSORS_DTYPES[dtype])
            if f.readinto(memoryview(array.reshape(-1).view(numpy.uint8))) != end - begin:
                raise WeightsError(f"tensor {key!r}'s data ends early (truncated?)")
            if dtype == "BF16":
                array = _bf16_to_float32(array)
            out[key] = array if array.dtype.isnative else array.astype(array.dtype.newbyteorder("="))
        return out


# torch.save archives -----------------------------------------------------------------

class _Frozen:
    """A value the unpickler hands to the pickle; immutable, so a pickle's BUILD op cannot alter it."""

    __slots__ = ()

    def __init__(self, **fields: Any):
        for k, v in fields.items():
            object.__setattr__(self, k, v)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")


class _Call(_Frozen):
    """A function the pickle may call, and nothing else: read-only, so BUILD can't rewrite it."""

    __slots__ = ("fn",)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)


class _StorageType(_Frozen):
    """Stands for a ``torch.<X>Storage`` class: only its element type matters."""

    __slots__ = ("dtype", "name")


class _Storage(_Frozen):
    """A storage's elements, read from its zip entry: a 1-D read-only array."""

    __slots__ = ("array", "type")


class _Tensor(_Frozen):
    """A rebuilt tensor: a host array owned by the loader, not by the pickle."""

    __slots__ = ("array",)


_STORAGE_TYPES = {
    "FloatStorage": "f4", "HalfStorage": "f2", "DoubleStorage": "f8", "BFloat16Storage": "u2",
    "LongStorage": "i8", "IntStorage": "i4", "ShortStorage": "i2", "CharStorage": "i1",
    "ByteStorage": "u1", "BoolStorage": "u1",
    "ComplexFloatStorage": "c8", "ComplexDoubleStorage": "c16",  # read, then refused at their key
}


def _as_tensor(data: Any, what: str) -> _Tensor:
    if not isinstance(data, _Tensor):
        raise WeightsError(f"{what} expects a tensor, got a {type(data).__name__}")
    return data


def _rebuild_parameter(data: Any, requires_grad: Any, backward_hooks: Any, state: Any = None) -> _Tensor:
    """torch._utils._rebuild_parameter(_with_state): a Parameter's data is all a state_dict needs."""
    return _as_tensor(data, "_rebuild_parameter")


class _TorchUnpickler(pickle.Unpickler):
    """Reads a torch.save pickle with only a state_dict's globals, mapped to the local ones here."""

    def __init__(self, file, zf: zipfile.ZipFile, prefix: str, byteorder: str, budget: _Budget):
        super().__init__(file)
        self.zf = zf
        self.prefix = prefix
        self.budget = budget
        self.storages: dict[str, bytes] = {}
        self.globals: dict[tuple[str, str], Any] = {
            ("collections", "OrderedDict"): OrderedDict,
            # callables a pickle can't change (a BUILD op would set attributes on a plain function)
            ("torch._utils", "_rebuild_tensor_v2"): _Call(fn=self.rebuild_tensor),
            ("torch._utils", "_rebuild_parameter"): _Call(fn=_rebuild_parameter),
            ("torch._utils", "_rebuild_parameter_with_state"): _Call(fn=_rebuild_parameter),
        }
        for name, code in _STORAGE_TYPES.items():
            self.globals["torch", name] = _StorageType(name=name, dtype=numpy.dtype(byteorder + code))

    def find_class(self, module: str, name: str) -> Any:
        # An exact lookup, never getattr: "a.b" names cannot walk to anything else.
        module, name = _python3_name(module, name)
        if (module, name) not in self.globals:
            raise _refused(module, name)
        return self.globals[module, name]

    def persistent_load(self, pid: Any) -> _Storage:
        """('storage', storage_type, key, location, numel): the storage's bytes from ``<prefix>/data/<key>``."""
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise WeightsError(f"unsupported persistent id {_brief(pid)}; a state_dict holds only storages")
        _, stype, key, location, numel = pid
        if not isinstance(stype, _StorageType) or not isinstance(key, str) or not isinstance(location, str) \
                or not _is_count(numel):
            raise WeightsError(f"malformed storage reference {_brief(pid)}")
        entry = f"{self.prefix}/data/{key}"
        nbytes = numel * stype.dtype.itemsize
        if key not in self.storages:
            try:
                info = self.zf.getinfo(entry)
            except KeyError:
                raise WeightsError(f"storage {entry!r} is missing") from None
            if info.file_size > nbytes:  # refused before it is read: a tensor's storage holds what it needs
                raise WeightsError(f"storage {entry!r} declares {info.file_size:,} bytes, more than its {numel:,} "
                                   f"{stype.name} elements need ({nbytes:,})")
            _check_entry(info, self.budget)
            self.budget.take(info.file_size, f"storage {entry!r}")
            with self.zf.open(info) as f:
                self.storages[key] = f.read(info.file_size)
        data = self.storages[key]
        if nbytes > len(data):
            raise WeightsError(f"storage {entry!r} holds {len(data):,} bytes, fewer than its {numel:,} "
                               f"{stype.name} elements need ({nbytes:,})")
        return _Storage(type=stype, array=numpy.frombuffer(data, dtype=stype.dtype, count=numel))

    def rebuild_tensor(self, storage: Any, storage_offset: Any, size: Any, stride: Any, requires_grad: Any = False,
                       backward_hooks: Any = None, metadata: Any = None) -> _Tensor:
        """torch._utils._rebuild_tensor_v2: a strided view of a storage, checked to lie inside it, then copied."""
        if not isinstance(storage, _Storage):
            raise WeightsError(f"_rebuild_tensor_v2 expects a storage, got a {type(storage).__name__}")
        if not (_is_count(storage_offset) and isinstance(size, tuple) and isinstance(stride, tuple)
                and len(size) == len(stride) <= MAX_NDIM and all(_is_count(v) for v in size + stride)):
            raise WeightsError(f"tensor has an invalid offset, size or stride "
                               f"({_brief(storage_offset)}, {_brief(size)}, {_brief(stride)})")
        stype, elements = storage.type, storage.array
        numel = math.prod(size)
        if numel and storage_offset + sum((n - 1) * s for n, s in zip(size, stride)) >= elements.size:
            raise WeightsError(f"tensor of size {list(size)}, stride {list(stride)} and offset {storage_offset} "
                               f"reads past the end of its storage of {elements.size:,} {stype.name} elements")
        out_dtype = numpy.dtype(numpy.float32 if stype.name == "BFloat16Storage"
                                else bool if stype.name == "BoolStorage" else stype.dtype.newbyteorder("="))
        self.budget.take(numel * out_dtype.itemsize, f"a tensor of size {list(size)}")
        if numel == 0:
            return _Tensor(array=numpy.zeros(size, dtype=out_dtype))
        itemsize = elements.dtype.itemsize
        strides = [s * itemsize for s in stride]
        view = as_strided(elements[storage_offset:], shape=size, strides=strides, writeable=False)
        if stype.name == "BFloat16Storage":
            array = _bf16_to_float32(view)
        elif stype.name == "BoolStorage":
            array = view != 0
        else:
            array = view.astype(out_dtype, order="C")  # a copy, in native byte order
        return _Tensor(array=array)


def _python3_name(module: str, name: str) -> tuple[str, str]:
    """A Python 2 global's Python 3 name (``__builtin__.eval`` is ``builtins.eval``), as pickle's find_class maps it."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[module, name]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def _refused(module: str, name: str) -> WeightsError:
    if module == "torch" and name.endswith("Storage"):
        return WeightsError(f"refusing to load torch.{name}: a tensor type that is not supported (nnspec reads "
                            f"{', '.join(n.removesuffix('Storage') for n in _STORAGE_TYPES if 'Complex' not in n)})")
    hint = ""
    if module.startswith(("torch.nn.", "__torch__")) or (name[:1].isupper() and module not in ("builtins", "os", "posix")):
        hint = " (a whole pickled model or a TorchScript archive? save model.state_dict() instead)"
    return WeightsError(f"refusing to load {module}.{name}: a weight file may hold only a state_dict's "
                        f"tensors{hint}")


MAX_PICKLE_DEPTH = 100  # nesting: CPython hashes and compares nested tuples recursively, in C
MAX_PICKLE_TREE = 20_000_000  # values counted as a tree: a shared value counts each time it is used
MAX_MEMO_INDEX = 1 << 20  # CPython grows its memo array to the largest index a PUT names
# opcodes a pickle may have: torch.save writes about 33 per storage; the rest (an epoch, a config) is small
PICKLE_OPCODES_BASE = 200_000
PICKLE_OPCODES_PER_STORAGE = 64
_IN_PLACE = {"APPEND", "APPENDS", "SETITEMS", "SETITEM", "ADDITEMS", "BUILD"}
_MEMO_PUT = {"PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"}
_MEMO_GET = {"GET", "BINGET", "LONG_BINGET"}
_LEAF = (0, 1)  # (depth, tree size) of a value that holds no other


def _opcode_table() -> list[tuple | None]:
    """Per opcode byte: (name, argument kind, length width, pops to a MARK, values popped below it, values
    pushed, pushes a MARK, pushes one plain value), from pickletools' descriptions; an argument kind is a
    fixed width (>= 0), a line (-1), two lines (-6, GLOBAL and INST), or a length of ``length width`` bytes
    then that many bytes (-2; -3 signed, -4; -5)."""
    table: list[tuple | None] = [None] * 256
    for op in pickletools.opcodes:
        kind = op.arg.n if op.arg is not None else 0
        if op.arg is not None and op.arg.name == "stringnl_noescape_pair":
            kind = -6
        mark = pickletools.markobject in op.stack_before
        below = op.stack_before.index(pickletools.markobject) if mark else len(op.stack_before)
        pushes_mark = pickletools.markobject in op.stack_after
        after = len(op.stack_after)
        leaf = not mark and not below and after == 1 and not pushes_mark and kind != -6 and op.name not in _MEMO_GET
        width = {-2: 1, -3: 4, -4: 4, -5: 8}.get(kind, 0)
        table[ord(op.code.encode("latin-1"))] = (op.name, kind, width, mark, below, after, pushes_mark, leaf)
    return table


_OPCODES = _opcode_table()


def max_pickle_opcodes(storages: int) -> int:
    """The opcodes a torch.save pickle of ``storages`` storages may have: generous for a state_dict or a
    checkpoint, and a bound on the time the scan takes."""
    return PICKLE_OPCODES_BASE + PICKLE_OPCODES_PER_STORAGE * storages


def _scan_globals(data: bytes, allowed: Mapping[tuple[str, str], Any], max_opcodes: int | None = None) -> None:
    """Read the pickle's opcodes before anything is unpickled, and refuse it for what no state_dict has:
    more than ``max_opcodes`` opcodes (the scan is one pass, so its time is bounded too), a GLOBAL or INST
    outside ``allowed`` (find_class sees STACK_GLOBAL), values or MARKs nested more than MAX_PICKLE_DEPTH
    deep (CPython would overflow its C stack hashing them), values that are huge as trees through shared
    references ((t, t) nested 40 times), and memo indices that make CPython allocate gigabytes. The stack
    is simulated with each value's (depth, tree size) only. A malformed pickle raises ValueError (corrupt)."""
    if max_opcodes is None:
        max_opcodes = max_pickle_opcodes(0)
    table, end = _OPCODES, len(data)
    stack: list[tuple[int, int] | None] = []  # None: a MARK
    memo: dict[int, tuple[int, int]] = {}
    marks = count = pos = 0
    while True:
        if pos >= end:
            raise ValueError("the pickle ends before its STOP opcode (truncated?)")
        entry = table[data[pos]]
        if entry is None:
            raise ValueError(f"the pickle has an unknown opcode {data[pos]:#04x} at byte {pos:,}")
        count += 1
        if count > max_opcodes:
            raise WeightsError(f"the pickle has more than {max_opcodes:,} opcodes, too many for a state_dict of "
                               f"its storages (at most {PICKLE_OPCODES_BASE:,} + {PICKLE_OPCODES_PER_STORAGE} "
                               "per storage)")
        name, kind, width, mark, below, after, pushes_mark, leaf = entry
        at = pos + 1
        if kind >= 0:
            pos = at + kind
        elif kind == -1 or kind == -6:
            stop = data.find(b"\n", at)
            if kind == -6 and stop >= 0:
                stop = data.find(b"\n", stop + 1)
            if stop < 0:
                raise ValueError(f"the pickle's {name} opcode at byte {at - 1:,} has no end of line (truncated?)")
            pos = stop + 1
        else:
            n = int.from_bytes(data[at:at + width], "little", signed=kind == -3)
            if n < 0:
                raise ValueError(f"the pickle's {name} opcode at byte {at - 1:,} has a negative length")
            pos = at + width + n
        if pos > end:
            raise ValueError(f"the pickle's {name} opcode at byte {at - 1:,} runs past its end (truncated?)")
        if name == "STOP":
            return
        if leaf:
            stack.append(_LEAF)  # a number, a string, an empty container: most of a pickle
            continue
        if kind == -6:
            module, _, gname = data[at:pos - 1].decode("utf-8", "replace").partition("\n")
            module, gname = _python3_name(module, gname)
            if (module, gname) not in allowed:
                raise _refused(module, gname)
        if name in _MEMO_PUT:
            index = len(memo) if name == "MEMOIZE" else _memo_index(data, at, pos, kind)
            if not 0 <= index < MAX_MEMO_INDEX:
                raise WeightsError(f"pickle memo index {index} is out of range (at most {MAX_MEMO_INDEX:,})")
            memo[index] = stack[-1] if stack and stack[-1] is not None else _LEAF
            continue
        if name in _MEMO_GET:
            stack.append(memo.get(_memo_index(data, at, pos, kind), _LEAF))
            continue
        if pushes_mark:
            marks += 1
            if marks > MAX_PICKLE_DEPTH:
                raise WeightsError(f"the pickle nests values more than {MAX_PICKLE_DEPTH} deep (MARK opcodes); "
                                   "a state_dict does not")
            stack.append(None)
            continue
        popped: list[tuple[int, int] | None] = []
        if mark:
            while stack and stack[-1] is not None:
                popped.append(stack.pop())
            if stack:
                stack.pop()
                marks -= 1
        for _ in range(below):
            if stack:
                popped.append(stack.pop())
        if not after:  # POP, POP_MARK, PROTO, FRAME: nothing is made
            continue
        values = [v for v in popped if v is not None]
        if name in _IN_PLACE and below and values:  # the container is changed, not wrapped
            container = popped[-1] if popped[-1] is not None else _LEAF
            items = values[:-1] if popped[-1] is not None else values
            depth = max([container[0]] + [d + 1 for d, _ in items])
            size = container[1] + sum(t for _, t in items)
        else:
            depth = max((d for d, _ in values), default=-1) + 1
            size = 1 + sum(t for _, t in values)
        if depth > MAX_PICKLE_DEPTH:
            raise WeightsError(f"the pickle nests values more than {MAX_PICKLE_DEPTH} deep; a state_dict does not")
        if size > MAX_PICKLE_TREE:
            raise WeightsError(f"the pickle's values, counted with every shared reference, exceed "
                               f"{MAX_PICKLE_TREE:,}; a state_dict is far smaller")
        for _ in range(after):
            stack.append((depth, size))


def _memo_index(data: bytes, at: int, pos: int, kind: int) -> int:
    """The memo index argument of a PUT or GET: a decimal line (protocol 0) or 1 or 4 bytes."""
    if kind == -1:
        text = data[at:pos - 1].strip()
        return int(text) if text.isdigit() and len(text) <= 12 else -1
    return int.from_bytes(data[at:pos], "little")


class _BriefRepr(reprlib.Repr):
    """reprlib's bounded repr, with an integer of thousands of digits described, not written (Python refuses
    to convert one past 4,300 digits)."""

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() <= 128:
            return repr(x)
        return f"<an integer of about {int(x.bit_length() * math.log10(2)) + 1:,} digits>"


def _brief(value: Any, maxstring: int = 40) -> str:
    """A bounded repr of a value from a pickle (nested and shared values are cut, never walked whole)."""
    r = _BriefRepr()
    r.maxlevel, r.maxtuple, r.maxlist, r.maxdict, r.maxstring, r.maxother = 3, 6, 6, 4, maxstring, 40
    return r.repr(value)


def _load_torch(p: Path, budget: _Budget) -> dict[str, numpy.ndarray]:
    """A torch.save zip archive (torch >= 1.6): ``<prefix>/data.pkl`` plus one ``<prefix>/data/<key>`` per storage."""
    if not zipfile.is_zipfile(p):
        raise WeightsError("not a zip archive, or a truncated one (torch.save writes zip archives since torch 1.6; "
                           "older, legacy torch files are not supported)")
    _check_count(max(0, _zip_entry_count(p) - TORCH_OTHER_ENTRIES), "zip entries")  # before the directory is read
    with zipfile.ZipFile(p) as zf:
        pickles = [n for n in zf.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise WeightsError("not a torch.save archive: expected one '<name>/data.pkl', found "
                               f"{len(pickles) or 'none'}")
        prefix = pickles[0][: -len("/data.pkl")]
        byteorder = "<"  # archives before torch 1.13 have no byteorder record, and were little-endian
        if f"{prefix}/byteorder" in zf.namelist():
            order = zf.read(f"{prefix}/byteorder") if zf.getinfo(f"{prefix}/byteorder").file_size <= 16 else b"?"
            if order not in (b"little", b"big"):
                raise WeightsError(f"'{prefix}/byteorder' says {order!r}, not 'little' or 'big'")
            byteorder = "<" if order == b"little" else ">"
        info = zf.getinfo(pickles[0])
        if info.file_size > MAX_PICKLE_BYTES:
            raise WeightsError(f"'{pickles[0]}' is {info.file_size:,} bytes, over the limit of {MAX_PICKLE_BYTES:,}")
        with zf.open(info) as f:
            data = f.read(MAX_PICKLE_BYTES + 1)
        storages = sum(1 for n in zf.namelist() if n.startswith(f"{prefix}/data/"))
        _check_count(storages, "storages")
        unpickler = _TorchUnpickler(io.BytesIO(data), zf, prefix, byteorder, budget)
        _scan_globals(data, unpickler.globals, max_pickle_opcodes(storages))
        obj = unpickler.load()
    return _state_dict_of(obj)


def _state_dict_of(obj: Any, depth: int = 0, where: str = "the file") -> dict[str, numpy.ndarray]:
    """The names and arrays of a state_dict, unwrapped from a checkpoint dict such as {'state_dict': ...}."""
    if not isinstance(obj, dict):
        raise WeightsError(f"{where} holds a {type(obj).__name__}, not a state_dict (a mapping of names to tensors)")
    for key in WRAPPER_KEYS:
        if isinstance(obj.get(key), dict) and depth < MAX_WRAPPER_DEPTH:
            inner = f"the file's {key!r} entry" if depth == 0 else f"{where}[{key!r}]"
            return _state_dict_of(obj[key], depth + 1, inner)
    out = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise WeightsError(f"{where} has a key {_brief(key)} of type {type(key).__name__}, not a name")
        if not isinstance(value, _Tensor):
            raise WeightsError(f"{_brief(key, MAX_KEY)} in {where} is not a tensor (type {type(value).__name__})")
        _check_numeric(value.array.dtype, key)
        out[key] = value.array
    return out


# --------------------------------------------------------------------------- saving

def save_weights(model_or_state_dict: Module | Mapping[str, Any], path: str | os.PathLike, *,
                 progress: Progress | None = None) -> None:
    """Write a Module's state_dict (or a mapping of names to arrays) to .safetensors or .npz, atomically.

    The file appears complete or not at all: it is written to a temporary file in
    the same folder and renamed over ``path``. ``progress`` hears ``("writing", arrays written, arrays)``
    (for .safetensors, which the package writes at once, before and after).
    """
    name = os.fspath(path)
    p = Path(name)
    try:
        kind = p.suffix.lower()
        if kind not in (".safetensors", ".npz"):
            raise WeightsError(f"weights are saved as .safetensors or .npz, not {p.suffix or '(no suffix)'!r}")
        arrays = _host_arrays(model_or_state_dict)
        if p.is_dir():
            raise WeightsError("is a directory")
        if not p.parent.is_dir():
            raise WeightsError(f"folder {str(p.parent)!r} does not exist")
        write = _save_safetensors if kind == ".safetensors" else _save_npz
        _write_atomically(p, arrays, lambda a, tmp, fd: write(a, tmp, fd, progress or quiet))
    except WeightsError as e:
        raise (e if e.position is not None else WeightsError(e.message, position=Position(name))) from None
    except OSError as e:
        raise WeightsError(f"cannot write weight file: {e.strerror or _one_line(e)}", position=Position(name)) from None


def _host_arrays(obj: Module | Mapping[str, Any]) -> dict[str, numpy.ndarray]:
    if isinstance(obj, Module):
        obj = obj.state_dict()
    if not isinstance(obj, Mapping):
        raise WeightsError(f"expected a Module or a state_dict, got a {type(obj).__name__}")
    out = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise WeightsError(f"state_dict key {key!r} is of type {type(key).__name__}, not a name")
        if is_lazy(value):
            raise WeightsError(f"{key!r} is uninitialized: a lazy module makes its parameters in its first call; "
                               "run the model once before saving it")
        try:
            array = to_numpy(value.data if isinstance(value, Parameter) else value)
        except (TypeError, ValueError) as e:
            raise WeightsError(f"{key!r} cannot be made a NumPy array ({_one_line(e)})") from None
        if array.dtype.hasobject:  # a shape-only (meta=True) model's arrays have no values
            raise WeightsError(f"{key!r} is a {type(value).__name__}, not a numeric array "
                               "(a shape-only model has no values to save)")
        _check_numeric(array.dtype, key)
        out[key] = array if array.flags.c_contiguous else array.copy(order="C")  # safetensors reads raw memory
    return out


def _save_npz(arrays: dict[str, numpy.ndarray], tmp: str, fd: int, progress: Progress) -> None:
    """numpy.savez's layout, written here so that no key can clash with savez's own argument names."""
    with os.fdopen(fd, "wb") as f:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for i, (key, array) in enumerate(arrays.items()):
                progress("writing", i, len(arrays))
                with zf.open(key + ".npy", "w", force_zip64=True) as entry:
                    npy_format.write_array(entry, array, allow_pickle=False)
            progress("writing", len(arrays), len(arrays))
        f.flush()
        os.fsync(f.fileno())


def _save_safetensors(arrays: dict[str, numpy.ndarray], tmp: str, fd: int, progress: Progress) -> None:
    os.close(fd)  # the package opens the file by name
    progress("writing", 0, len(arrays))
    try:
        from safetensors.numpy import save_file
    except ImportError:
        raise WeightsError("writing .safetensors needs the safetensors package (pip install safetensors)") from None
    try:
        save_file(arrays, tmp, metadata={"format": "np"})
    except Exception as e:  # noqa: BLE001 - the package's own refusals (an unsupported dtype, say)
        raise WeightsError(f"cannot write .safetensors: {_one_line(e)}") from None
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    progress("writing", len(arrays), len(arrays))


def _write_atomically(p: Path, arrays: dict[str, numpy.ndarray],
                      write: Callable[[dict[str, numpy.ndarray], str, int], None]) -> None:
    tmp = str(p.parent / f".{p.name}.{uuid.uuid4().hex[:12]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # 0o666 so the umask applies, as for open()
    try:
        write(arrays, tmp, fd)
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# --------------------------------------------------------------------------- checking a file against a model

MAX_RENAMES = 100  # rename rules in a model file: a checkpoint's names need a few
MAX_RENAME_PATTERN = 200
MAX_RENAME_REPLACEMENT = 200
MAX_RENAME_QUANTIFIERS = 2  # with keys of at most MAX_KEY characters, matching stays under MAX_KEY ** 3 steps
MAX_KEY = 300  # characters of a key a rename reads or writes
MAX_RENAME_STEPS = 500_000_000  # regex steps all renames of all keys may take, estimated (a few seconds)
# a repeated group ((\w|\.)+)+ can backtrack exponentially, and many quantifiers polynomially: both refused
_QUANTIFIER = re.compile(r"(?<!\\)(?:[*+?]|\{\d*,?\d*\})")
_QUANTIFIED_GROUP = re.compile(r"(?<!\\)\)(?:[*+?]|\{\d*,?\d*\})")


@dataclass(frozen=True)
class Rename:
    """One key rename from a model file's ``weights: {rename: [[pattern, replacement], ...]}``, and where the
    model file gives it (a rename that fails on a key is placed there)."""

    pattern: str
    replacement: str
    position: Position | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if len(self.pattern) > MAX_RENAME_PATTERN:
            raise ValueError(f"a rename pattern is at most {MAX_RENAME_PATTERN} characters")
        if len(self.replacement) > MAX_RENAME_REPLACEMENT:
            raise ValueError(f"a rename replacement is at most {MAX_RENAME_REPLACEMENT} characters, "
                             f"not {len(self.replacement):,}")
        if _QUANTIFIED_GROUP.search(self.pattern):
            raise ValueError(f"rename pattern {self.pattern!r} repeats a group, which can take exponential time "
                             "(nested repetition); repeat single characters or classes only")
        if self.quantifiers() > MAX_RENAME_QUANTIFIERS:
            raise ValueError(f"rename pattern {self.pattern!r} has more than {MAX_RENAME_QUANTIFIERS} quantifiers "
                             "(*, +, ?, {m,n}); a key rename needs few")
        try:
            compiled = re.compile(self.pattern)
            _check_template(compiled, self.replacement)  # the replacement's group references, checked now
            compiled.sub(self.replacement, "")
        except (re.error, IndexError) as e:
            raise ValueError(f"rename {self.pattern!r} -> {self.replacement!r} is not valid: {e}") from None

    def quantifiers(self) -> int:
        return len(_QUANTIFIER.findall(self.pattern.replace("\\\\", "")))

    def steps(self, n: int) -> int:
        """An upper estimate of the regex steps of one rename of a key of ``n`` characters: a match tried at each
        of n starts (one, anchored at ^), each quantifier backtracking over up to n characters, and each
        alternative (|) doubling the paths."""
        anchored = self.pattern.startswith(("^", "\\A"))
        return (n + 1) ** (self.quantifiers() + (0 if anchored else 1)) * 2 ** self.pattern.count("|")

    def apply(self, key: str) -> str:
        if len(key) > MAX_KEY:
            raise WeightsError(f"a key of {len(key):,} characters is too long to rename (at most {MAX_KEY})",
                               position=self.position)
        new = re.sub(self.pattern, self.replacement, key)
        if len(new) > MAX_KEY:
            raise WeightsError(f"rename {_brief(self.pattern)} -> {_brief(self.replacement)} makes {_brief(key)} a "
                               f"key of {len(new):,} characters, too long (at most {MAX_KEY})", position=self.position)
        return new


def _check_template(compiled: re.Pattern, replacement: str) -> None:
    """Raise re.error for a replacement that names a group the pattern lacks (re only checks on a match)."""
    for m in re.finditer(r"\\(\d+)|\\g<([^>]*)>", replacement):
        ref = m.group(1) or m.group(2)
        if ref.isdigit():
            if int(ref) > compiled.groups:
                raise re.error(f"invalid group reference {ref}")
        elif ref not in compiled.groupindex:
            raise re.error(f"unknown group name {ref!r}")


def for_model(model: Module, state: Mapping[str, Any]) -> dict[str, Any]:
    """``state`` as ``model`` names its keys: the model file's renames applied, then each tied parameter's
    key filled from the key it is tied to where the file has only one of them (Hugging Face's
    ``save_pretrained`` writes ``transformer.wte.weight`` and leaves out the ``lm_head.weight`` tied to it)."""
    state = rename_keys(state, model.__dict__.get("_weight_renames", []))
    for target, source in model.__dict__.get("_tied", {}).items():
        if target not in state and source in state:
            state[target] = state[source]
        elif source not in state and target in state:
            state[source] = state[target]
    return state


def rename_keys(state: Mapping[str, Any], renames: Sequence[Rename]) -> dict[str, Any]:
    """``state`` with each rename applied to every key, in order (DataParallel's ``module.`` prefix, say).
    Bounded: at most MAX_RENAMES rules, keys of at most MAX_KEY characters before and after each rule, and
    at most MAX_RENAME_STEPS regex steps in all (estimated before each rule is applied)."""
    if len(renames) > MAX_RENAMES:
        raise WeightsError(f"{len(renames):,} rename rules, more than {MAX_RENAMES}",
                           position=renames[MAX_RENAMES].position)
    keys = list(state)
    steps = 0
    for r in renames:
        steps += sum(r.steps(len(k)) for k in keys)
        if steps > MAX_RENAME_STEPS:
            raise WeightsError(f"the rename rules would take up to {steps:,} regex steps on these {len(keys):,} "
                               f"keys, more than the limit of {MAX_RENAME_STEPS:,} (at rename {_brief(r.pattern)}); "
                               "anchor patterns with ^, and use fewer quantifiers and alternatives (|)",
                               position=r.position)
        keys = [r.apply(k) for k in keys]
    out: dict[str, Any] = {}
    for key, new, value in zip(state, keys, state.values()):
        if new in out:
            raise WeightsError(f"renaming gives the key {new!r} twice (from {key!r} and another)",
                               position=renames[-1].position if renames else None)
        out[new] = value
    return out


@dataclass
class Mismatch:
    """One way a weights file disagrees with a model."""

    kind: str  # missing | unexpected | shape | dtype
    key: str
    expected: str = ""
    got: str = ""
    hint: str = ""

    def message(self) -> str:
        if self.kind == "missing":
            return f"missing key {self.key!r} ({self.expected}) in the weights{self.hint}"
        if self.kind == "unexpected":
            return f"unexpected key {self.key!r} ({self.got}) in the weights{self.hint}"
        return f"{self.key!r}: the model has {self.expected}, the weights have {self.got}"


def _describe_array(a: Any) -> str:
    if is_lazy(a):  # a lazy module's parameter before its first call: any shape loads into it
        return f"uninitialized {a.dtype}"
    return f"{tuple(int(s) for s in a.shape)} {a.dtype}"


HINT_CUTOFF = 0.75  # difflib's similarity a "did you mean" needs
HINT_EXHAUSTIVE = 200  # with at most this many names on each side, every pair is compared
HINT_NEIGHBOURS = 2  # past that, a name is compared with this many neighbours each way, in two sorted orders
MAX_HINTED = 2_000  # names that get a hint at all: past them, thousands of mismatches need no more hints
MAX_HINT_KEY = MAX_KEY  # difflib's time grows with the square of a name's length: longer names get no hint


def path_distance(a: str, b: str) -> int:
    """How many dotted parts must be changed, added or dropped to make key ``a`` key ``b`` (Levenshtein's
    distance over the parts): ``up1.weight`` is 1 from ``up1.1.weight`` (a part added) and 2 from
    ``up2.1.weight`` (one changed, one added), though difflib finds both as similar."""
    x, y = a.split("."), b.split(".")
    row = list(range(len(y) + 1))
    for i, part in enumerate(x, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(y, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (part != other))
    return row[-1]


def nearest_names(names: Sequence[str], candidates: Sequence[str]) -> tuple[dict[str, str], int]:
    """For each name, the most similar candidate where there is one, and the number of pairs compared. Similar
    means difflib's ratio at least HINT_CUTOFF; among those, the candidate that differs in the fewest dotted
    parts of its path (:func:`path_distance`) wins, then the greater ratio, then the greater name (as
    difflib.get_close_matches breaks ties).

    With few names on each side (HINT_EXHAUSTIVE) every pair is compared. Past that, a name is compared only
    with its HINT_NEIGHBOURS nearest candidates on each side in sorted order, and in sorted order of the
    reversed strings: a renamed leaf keeps the prefix, an added or dropped prefix ("module.") keeps the suffix.
    The pairs compared then grow linearly with the names (sorting, n log n), not with their product; and only
    the first MAX_HINTED names get a hint, which bounds them (the rest are far more than anyone reads)."""
    import bisect
    import difflib

    pool = [c for c in dict.fromkeys(candidates) if len(c) <= MAX_HINT_KEY]
    exhaustive = len(names) <= HINT_EXHAUSTIVE and len(pool) <= HINT_EXHAUSTIVE
    forward = sorted(pool)
    backward = sorted(c[::-1] for c in pool)
    k = HINT_NEIGHBOURS
    matcher = difflib.SequenceMatcher()
    out: dict[str, str] = {}
    compared = 0
    for name in names[:MAX_HINTED]:
        if len(name) > MAX_HINT_KEY:
            continue
        if exhaustive:
            near = pool
        else:
            i = bisect.bisect_left(forward, name)
            j = bisect.bisect_left(backward, name[::-1])
            near = dict.fromkeys(forward[max(0, i - k):i + k] + [c[::-1] for c in backward[max(0, j - k):j + k]])
        matcher.set_seq2(name)
        best: tuple[int, float, str] | None = None
        for c in near:
            compared += 1
            matcher.set_seq1(c)
            if (matcher.real_quick_ratio() >= HINT_CUTOFF and matcher.quick_ratio() >= HINT_CUTOFF
                    and (score := matcher.ratio()) >= HINT_CUTOFF):
                rank = (-path_distance(name, c), score, c)
                if best is None or rank > best:
                    best = rank
        if best is not None:
            out[name] = best[2]
    return out, compared


def compare(model: Module, state: Mapping[str, Any]) -> list[Mismatch]:
    """Every key the model has and the weights lack, and the reverse (with the nearest name), and every entry
    whose shape differs, or whose dtype can't be converted (a float of another precision can: not listed).
    The model may be shape-only (``nnspec.load(path, meta=True)``): nothing of it is allocated."""
    return compare_state(model.state_dict(), state)


def compare_state(own: Mapping[str, Any], state: Mapping[str, Any]) -> list[Mismatch]:
    """:func:`compare` on a model's state_dict ``own`` (names to arrays, or shape-only arrays): near-linear in
    the number of keys (the did-you-mean hints come from :func:`nearest_names`)."""
    out: list[Mismatch] = []
    # torch's BatchNorm keeps its own num_batches_tracked when a state_dict lacks it (older checkpoints)
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in own]
    to_file, _ = nearest_names(missing, unexpected)
    to_model, _ = nearest_names(unexpected, missing)
    for key in missing:
        out.append(Mismatch("missing", key, expected=_describe_array(own[key]),
                            hint=f"; the file has {to_file[key]!r}" if key in to_file else ""))
    for key in unexpected:
        out.append(Mismatch("unexpected", key, got=_describe_array(state[key]),
                            hint=f"; did you mean {to_model[key]!r}?" if key in to_model else ""))
    for key, want in own.items():
        if key not in state:
            continue
        have = state[key]
        if not is_lazy(want) and tuple(have.shape) != tuple(want.shape):
            out.append(Mismatch("shape", key, expected=_describe_array(want), got=_describe_array(have)))
        elif numpy.dtype(have.dtype).kind != numpy.dtype(want.dtype).kind and not (
                numpy.dtype(have.dtype).kind in "iub" and numpy.dtype(want.dtype).kind in "iu"):
            out.append(Mismatch("dtype", key, expected=_describe_array(want), got=_describe_array(have)))
    return out


MISMATCH_KINDS = ("missing", "unexpected", "shape", "dtype")


def count_mismatches(problems: Sequence[Mismatch]) -> str:
    """"2 missing keys, 1 unexpected key, 1 shape": how many of each kind, for a summary line."""
    nouns = {"missing": "missing key", "unexpected": "unexpected key", "shape": "shape mismatch",
             "dtype": "dtype mismatch"}
    counts = {kind: sum(p.kind == kind for p in problems) for kind in MISMATCH_KINDS}
    return ", ".join(f"{n:,} {nouns[kind]}{'es' if n != 1 and kind in ('shape', 'dtype') else 's' if n != 1 else ''}"
                     for kind, n in counts.items() if n)


def converted(model: Module, state: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``state`` with each array in the dtype of the model's entry (float16 weights for a float32 model),
    and a note per dtype converted."""
    own = model.state_dict()
    out, changes = {}, {}
    for key, value in state.items():
        want = own.get(key)
        if want is not None and numpy.dtype(value.dtype) != numpy.dtype(want.dtype):
            changes.setdefault((str(value.dtype), str(want.dtype)), 0)
            changes[(str(value.dtype), str(want.dtype))] += 1
            value = numpy.asarray(value).astype(want.dtype)
        out[key] = value
    notes = [f"converted {n} array(s) from {a} to {b}" for (a, b), n in changes.items()]
    return out, notes


MAX_REPORTED = 50  # mismatches reported one per line; past them, a count


def load_into(model: Module, path: str | os.PathLike) -> list[str]:
    """Load the weights file at ``path`` into ``model`` as ``nnspec run --weights`` does (renames applied, every
    mismatch refused, other float precisions converted); the notes ``prepare`` gives."""
    state, notes = prepare(model, load_weights(path), str(path))
    model.load_state_dict(state)
    return notes


def prepare(model: Module, state: Mapping[str, Any], source: str = "the weights") -> tuple[dict[str, Any], list[str]]:
    """``state`` made ready for ``model.load_state_dict``: the model file's renames applied, every mismatch
    refused at once (one placed line each, for the first MAX_REPORTED, where the model file defines the entry's
    module; then a count), and floats of
    another precision converted to the model's (with notes)."""
    from .errors import WeightsErrors

    state = for_model(model, state)
    problems = compare(model, state)
    if problems:
        errors = []
        for p in problems[:MAX_REPORTED]:
            owner = p.key.rpartition(".")[0]
            try:
                module = model.get_submodule(owner) if owner and p.kind != "unexpected" else model
            except Exception:  # noqa: BLE001 - a key under no module: the model's own place
                module = model
            where = module.__dict__.get("_spec_position")
            errors.append(WeightsError(f"{source}: {p.message()}", position=where))
        if len(problems) > MAX_REPORTED:
            errors.append(WeightsError(f"{source}: ... and {len(problems) - MAX_REPORTED:,} more mismatches "
                                       f"({count_mismatches(problems)} in all; `nnspec weights check` lists them)",
                                       position=model.__dict__.get("_spec_position")))
        raise WeightsErrors(errors)
    return converted(model, state)
