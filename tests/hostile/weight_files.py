"""Hostile weight files: torch.save archives whose pickle runs code, hangs a scan or declares huge storages,
.npz and .safetensors files that declare more than they hold, and weight checks and renames that blow up."""

from __future__ import annotations

import json
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from . import MARKER, Case

W = "w.pt"
M = "m.yaml"


# --------------------------------------------------------------------------- pickle opcodes, written by hand

def _str(s: str) -> bytes:
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b  # BINUNICODE


def _int(v: int) -> bytes:
    if 0 <= v < 256:
        return b"K" + bytes([v])
    if -(2**31) <= v < 2**31:
        return b"J" + struct.pack("<i", v)
    n = (v.bit_length() + 8) // 8
    data = v.to_bytes(n, "little", signed=True)
    return (b"\x8a" + bytes([n]) if n < 256 else b"\x8b" + struct.pack("<i", n)) + data  # LONG1 / LONG4


def _tuple(values) -> bytes:
    return b"(" + b"".join(_int(v) for v in values) + b"t" if values else b")"


def _tensor(storage: str = "FloatStorage", key: str = "0", numel: int = 1, offset: int = 0, size=(1,),
            stride=(1,)) -> bytes:
    """torch._utils._rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict())."""
    pid = b"(" + _str("storage") + f"ctorch\n{storage}\n".encode() + _str(key) + _str("cpu") + _int(numel) + b"t"
    return (b"ctorch._utils\n_rebuild_tensor_v2\n(" + pid + b"Q" + _int(offset) + _tuple(size) + _tuple(stride)
            + b"\x89ccollections\nOrderedDict\n)Rt" + b"R")


def _state(*items: tuple[bytes, bytes]) -> bytes:
    """A protocol-2 pickle of a dict: each item is (key opcodes, value opcodes)."""
    return b"\x80\x02}" + b"".join(k + v + b"s" for k, v in items) + b"."


# --------------------------------------------------------------------------- zip archives, written by hand

def _zip(entries: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip of (name, stored bytes, method 0|8, uncompressed size, crc) entries, each size below 4 GiB."""
    out, central = bytearray(), bytearray()
    for name, data, method, size, crc in entries:
        n = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(data), size, len(n), 0) + n + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, len(data), size, len(n),
                               0, 0, 0, 0, 0, offset) + n
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(out), 0)
    return bytes(out + central + end)


def _stored(name: str, data: bytes) -> tuple[str, bytes, int, int, int]:
    return name, data, 0, len(data), zlib.crc32(data)


def _deflated(name: str, data: bytes) -> tuple[str, bytes, int, int, int]:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return name, c.compress(data) + c.flush(), 8, len(data), zlib.crc32(data)


def _zeros_deflated(name: str, size: int, prefix: bytes = b"") -> tuple[str, bytes, int, int, int]:
    """``size`` zero bytes as a deflate stream of about size/1000 bytes, built from one compressed MiB (its CRC
    is left 0: a reader that reads it all finds that out at the end, and one that does not read it never does)."""
    mib = 1 << 20
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = head.compress(prefix) + head.flush(zlib.Z_FULL_FLUSH)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(b"\0" * mib) + c.flush(zlib.Z_FULL_FLUSH)  # byte-aligned, no reference to earlier data
    count, rest = divmod(size - len(prefix), mib)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    return name, start + block * count + tail.compress(b"\0" * rest) + tail.flush(), 8, size, 0


def _pt(pickle: bytes, storages: dict[str, bytes] | None = None, deflate: bool = False,
        extra: list | None = None) -> bytes:
    entries = [(_deflated if deflate else _stored)("archive/data.pkl", pickle), _stored("archive/byteorder", b"little")]
    entries += [_stored(f"archive/data/{k}", v) for k, v in (storages or {}).items()]
    return _zip(entries + (extra or []))


ONE = {"0": np.ones(1, np.float32).tobytes()}


def _pt_case(id: str, kind: str, data: bytes | callable, phrase: str, args: list[str] | None = None) -> Case:
    return Case(f"weights_{id}", kind, {W: data}, args or ["weights", "convert", W, "-o", "out.safetensors"],
                phrase, W, line=False)


# --------------------------------------------------------------------------- .safetensors and .npz

def _safetensors(header: dict, data: bytes = b"") -> bytes:
    h = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(h)) + h + data


def _many_empty_tensors(path: Path, count: int = 1_600_000) -> None:
    entries = ",".join(f'"t{i}":{{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}' for i in range(count))
    h = ("{" + entries + "}").encode()
    path.write_bytes(struct.pack("<Q", len(h)) + h)


def _big_metadata(path: Path, size: int = 100_000_000) -> None:
    """A header of ~100 MB of small JSON values: cheap on disk, tens of bytes of Python objects each."""
    items = size // 12
    h = ('{"__metadata__":{"m":[' + ",".join(["[0,0]"] * (items // 2)) + "]}}").encode()
    path.write_bytes(struct.pack("<Q", len(h)) + h)


def _npz(arrays: dict[str, bytes]) -> bytes:
    return _zip([_stored(f"{k}.npy", v) for k, v in arrays.items()])


def _npy_header(shape: tuple, descr: str = "<f4") -> bytes:
    h = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}".encode()
    h += b" " * (63 - (len(h) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h


def _model_with_keys(n: int) -> bytes:
    """A model of about ``n`` keys: Linear(1, 1)s (two keys each) in a ModuleList of ModuleLists (one repeat is at
    most 10,000, and a flat list of 10,000 would time the plan passes, not the weight check)."""
    side = math.isqrt(n // 2)
    return (f"type: ModuleList\nrepeat: {side}\nmodule:\n  type: ModuleList\n  repeat: {side}\n"
            f"  module: {{Linear: [1, 1]}}\n").encode()


def _safetensors_keys(path: Path, n: int, prefix: str) -> None:
    header = {f"{prefix}.layer.{i}.weight.with.a.long.name": {"dtype": "F32", "shape": [1], "data_offsets": [4 * i, 4 * i + 4]}
              for i in range(n)}
    path.write_bytes(_safetensors(header, b"\0" * (4 * n)))


def cases() -> list[Case]:
    convert = ["weights", "convert", W, "-o", "out.safetensors"]
    out = [
        # the pickle: code, and scans that must stay linear and bounded
        _pt_case("os_system", "code", _pt(b"\x80\x02cos\nsystem\n(" + _str(f"touch {MARKER}") + b"tR."),
                 r"refusing to load os\.system"),
        _pt_case("posix_system", "code", _pt(b"\x80\x02cposix\nsystem\n(" + _str(f"touch {MARKER}") + b"tR."),
                 r"refusing to load posix\.system"),
        _pt_case("stack_global_eval", "code", _pt(b"\x80\x04" + _str("builtins") + _str("eval") + b"\x93("
                                                  + _str(f"open('{MARKER}','w')") + b"tR."), r"refusing to load builtins\.eval"),
        _pt_case("reduce_ordereddict_items", "code", _pt(b"\x80\x02ccollections\nOrderedDict\n(" + _str("x") + b"tR."),
                 r"(not a state_dict|OrderedDict|mapping|corrupt)"),
        _pt_case("build_on_rebuild", "code", _pt(b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n}(" + _str("fn")
                                                 + b"cos\nsystem\nub."), r"refusing to load os\.system"),
        _pt_case("many_opcodes", "hang", lambda p: p.write_bytes(_pt(b"\x80\x02" + b"N0" * 10_000_000 + b"}.", deflate=True)),
                 r"(opcodes|operations|too many)"),
        _pt_case("many_marks", "hang", lambda p: p.write_bytes(_pt(b"\x80\x02" + b"(1" * 10_000_000 + b"}.", deflate=True)),
                 r"(opcodes|operations|too many)"),
        _pt_case("deep_nesting", "memory", _pt(b"\x80\x02" + b"(" * 5000 + b")" + b"t" * 5000 + b"."),
                 r"nests values more than"),
        _pt_case("deep_lists", "memory", _pt(b"\x80\x02" + b"]" * 100_000 + b"a" * 99_999 + b"."),
                 r"nests values more than"),
        _pt_case("shared_doubling", "memory", _pt(b"\x80\x02)" + b"q\x00h\x00h\x00\x86" * 60 + b"."),
                 r"(shared reference|exceed)"),
        _pt_case("memo_index_huge", "memory", _pt(b"\x80\x02Nr" + struct.pack("<I", 2**31) + b"."),
                 r"memo index"),
        _pt_case("pickle_bomb", "memory", lambda p: p.write_bytes(_pt(b"\x80\x02" + b"N0" * (40 << 20) + b"}.", deflate=True)),
                 r"(over the limit|opcodes|operations|too many)"),
        # storages: declared sizes against what the tensors need, and the memory budget
        _pt_case("storage_declares_4gib", "memory", lambda p: p.write_bytes(_zip(
            [_stored("archive/data.pkl", _state((_str("w"), _tensor(numel=1)))), _stored("archive/byteorder", b"little"),
             _zeros_deflated("archive/data/0", (4 << 30) - 4096)])), r"storage"),
        _pt_case("storage_numel_huge", "memory", _pt(_state((_str("w"), _tensor(numel=10**15))), ONE), r"storage"),
        _pt_case("tensor_reads_past_storage", "memory",
                 _pt(_state((_str("w"), _tensor(numel=1, size=(10,), stride=(1,)))), ONE), r"reads past"),
        _pt_case("tensor_shape_huge_stride_0", "memory",
                 _pt(_state((_str("w"), _tensor(numel=1, size=(10**10, 10**10), stride=(0, 0)))), ONE),
                 r"(bytes|limit|larger)"),
        _pt_case("tensor_size_digits", "message",
                 _pt(_state((_str("w"), _tensor(numel=1, size=(10**5000,), stride=(1,)))), ONE),
                 r"(invalid|size|digits|large)"),
        _pt_case("storage_missing", "message", _pt(_state((_str("w"), _tensor(key="7")))), r"storage .* is missing"),
        _pt_case("complex64", "message", _pt(_state((_str("w"), _tensor(storage="ComplexFloatStorage"))),
                                              {"0": b"\0" * 8}), r"complex"),
        _pt_case("whole_model", "message", _pt(b"\x80\x02ctorch.nn.modules.linear\nLinear\n)\x81."),
                 r"whole pickled model"),
        _pt_case("key_huge_int", "message", _pt(_state((_int(10**5000), _tensor())), ONE), r"key .*not a name"),
        _pt_case("key_int", "message", _pt(_state((_int(3), _tensor())), ONE), r"key 3 .*not a name"),
        _pt_case("key_long_string", "message", _pt(_state((_str("k" * 5_000_000), _str("v")))), r"not a tensor"),
        _pt_case("value_not_tensor", "message", _pt(_state((_str("w"), _int(3)))), r"not a tensor"),
        _pt_case("not_a_dict", "message", _pt(b"\x80\x02N."), r"not a state_dict"),
        _pt_case("truncated", "message", _pt(_state((_str("w"), _tensor())), ONE)[:150], r"(zip|truncated|corrupt)"),
        _pt_case("not_a_zip", "message", b"\x80\x02}." * 10, r"not a zip"),
        _pt_case("data_pkl_huge_declared", "memory",
                 lambda p: p.write_bytes(_zip([_zeros_deflated("archive/data.pkl", 1 << 30)])),
                 r"over the limit"),
        _pt_case("byteorder_weird", "message", _zip([_stored("archive/data.pkl", b"\x80\x02}."),
                                                     _stored("archive/byteorder", b"middle")]), r"byteorder"),
        # .npz
        Case("weights_npz_declares_huge", "memory", {"w.npz": _npz({"w": _npy_header((10**6, 10**6))})},
             ["weights", "convert", "w.npz", "-o", "out.safetensors"], r"declares .* bytes", "w.npz", line=False),
        Case("weights_npz_object", "code", {"w.npz": _npz({"w": _npy_header((1,), "|O") + b"\0" * 8})},
             ["weights", "convert", "w.npz", "-o", "out.safetensors"], r"Python objects", "w.npz", line=False),
        Case("weights_npz_zip_bomb", "memory", {"w.npz": lambda p: p.write_bytes(_zip(
            [_zeros_deflated("w.npy", (4 << 30) - 4096, _npy_header(((4 << 30) // 4 - 1100,)))]))},
             ["weights", "convert", "w.npz", "-o", "out.safetensors"], r"(limit|bytes|header|npy)", "w.npz", line=False),
        Case("weights_npz_many_entries", "hang", {"w.npz": _npz({f"a{i}": _npy_header((1,)) + b"\0" * 4
                                                                 for i in range(60_000)})},
             ["weights", "convert", "w.npz", "-o", "out.safetensors"], r"(more than|too many|limit)", "w.npz",
             line=False),
        # .safetensors
        Case("weights_safetensors_many_empty", "hang", {"w.safetensors": _many_empty_tensors},
             ["weights", "convert", "w.safetensors", "-o", "out.npz"], r"(more than|too many|limit)",
             "w.safetensors", line=False),
        Case("weights_safetensors_big_header", "memory", {"w.safetensors": _big_metadata},
             ["weights", "convert", "w.safetensors", "-o", "out.npz"], r"(header|limit|bytes)", "w.safetensors",
             line=False),
        Case("weights_safetensors_shape_huge", "memory", {"w.safetensors": _safetensors(
            {"w": {"dtype": "F32", "shape": [10**9, 10**9], "data_offsets": [0, 4]}}, b"\0" * 4)},
             ["weights", "convert", "w.safetensors", "-o", "out.npz"], r"needs .* bytes", "w.safetensors", line=False),
        Case("weights_safetensors_int_digits", "message", {"w.safetensors": struct.pack("<Q", 5030)
                                                           + b'{"w":{"dtype":"F32","shape":[' + b"9" * 5000
                                                           + b'],"data_offsets":[0,4]}}'},
             ["weights", "convert", "w.safetensors", "-o", "out.npz"], r"(header|digits|shape)", "w.safetensors",
             line=False),
        Case("weights_safetensors_offsets_outside", "message", {"w.safetensors": _safetensors(
            {"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 10**12]}}, b"\0" * 4)},
             ["weights", "convert", "w.safetensors", "-o", "out.npz"], r"data_offsets", "w.safetensors", line=False),
        Case("weights_safetensors_header_length_lies", "message", {"w.safetensors": struct.pack("<Q", 10**15) + b"{}"},
             ["weights", "convert", "w.safetensors", "-o", "out.npz"], r"header length", "w.safetensors",
             line=False),
        # checking a file against a model: did-you-mean hints and renames
        Case("weights_check_many_keys", "hang", {M: _model_with_keys(20_000),
                                                 "w.safetensors": lambda p: _safetensors_keys(p, 40_000, "other")},
             ["weights", "check", M, "w.safetensors"], r"missing key", M),
        Case("weights_rename_many_rules", "hang",
             {M: b"weights:\n  rename:\n" + b"    - ['.*.*x', '']\n" * 1000 + b"Linear: [1, 1]\n",
              "w.safetensors": lambda p: _safetensors_keys(p, 100, "k" * 200)},
             ["weights", "check", M, "w.safetensors"], r"(rename|rules|at most)", M),
        Case("weights_rename_long_replacement", "memory",
             {M: b"weights:\n  rename:\n    - ['(.)', '" + b"\\\\1" * 4_000_000 + b"']\nLinear: [1, 1]\n",
              "w.safetensors": lambda p: _safetensors_keys(p, 100, "k")},
             ["weights", "check", M, "w.safetensors"], r"(replacement|characters|at most|long)", M),
        Case("weights_rename_growing_keys", "memory",
             {M: b"weights:\n  rename:\n" + b"    - ['^(.*)$', '\\1\\1']\n" * 30 + b"Linear: [1, 1]\n",
              "w.safetensors": lambda p: _safetensors_keys(p, 100, "k")},
             ["weights", "check", M, "w.safetensors"], r"(too long|characters|at most)", M),
    ]
    return out
