"""Weight files: round trips, files written by torch and safetensors, and hostile or broken files."""

from __future__ import annotations

import io
import os
import pickle
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import nnspec
from nnspec import WeightsError, load_weights, save_weights
from nnspec import weights as weights_module

SAMPLE = {
    "conv.weight": np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2),
    "bn.num_batches_tracked": np.array(7, dtype=np.int64),
    "half": np.linspace(-1, 1, 5).astype(np.float16),
    "double": np.array([[1.5, -2.25]]),
    "mask": np.array([True, False, True]),
    "bytes": np.array([0, 255], dtype=np.uint8),
    "empty": np.zeros((0, 3), dtype=np.float32),
    "file": np.ones(1, dtype=np.int32),  # numpy.savez's own argument name: must not clash
}


def assert_same(got: dict, want: dict, *, ordered: bool = True) -> None:
    assert (list(got) if ordered else sorted(got)) == (list(want) if ordered else sorted(want))
    for k, v in want.items():
        assert got[k].dtype == np.asarray(v).dtype, k
        assert got[k].shape == np.asarray(v).shape, k
        np.testing.assert_array_equal(got[k], v, err_msg=k)


# --------------------------------------------------------------------------- round trips

def test_npz_round_trip(tmp_path):
    p = tmp_path / "w.npz"
    save_weights(SAMPLE, p)
    assert_same(load_weights(p), SAMPLE)
    assert list(np.load(p).keys()) == list(SAMPLE)  # an ordinary .npz, as numpy.savez writes


def test_safetensors_round_trip(tmp_path):
    from safetensors import safe_open

    p = tmp_path / "w.safetensors"
    save_weights(SAMPLE, p)
    assert_same(load_weights(p), SAMPLE, ordered=False)  # the format keeps no insertion order
    with safe_open(str(p), framework="np") as f:
        assert f.metadata() == {"format": "np"}


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_save_module_and_load_back(tmp_path, suffix):
    spec = {"type": "Sequential", "modules": [{"Conv2d": [1, 2, 3]}, {"BatchNorm2d": 2}, "Flatten", {"Linear": [2, 2]}]}
    model = nnspec.from_dict(spec, seed=0)
    p = tmp_path / f"m{suffix}"
    save_weights(model, p)
    sd = load_weights(p)
    assert_same(sd, {k: np.asarray(v) for k, v in model.state_dict().items()}, ordered=suffix == ".npz")
    other = nnspec.from_dict(spec, seed=1)
    other.load_state_dict(sd)
    for k, v in other.state_dict().items():
        np.testing.assert_array_equal(v, model.state_dict()[k])


def test_save_non_contiguous_and_parameters(tmp_path):
    t = np.arange(12, dtype=np.float32).reshape(3, 4)
    state = {"t": t.T, "p": nnspec.Parameter(np.ones(2, np.float32)), "s": np.float64(3.0)}
    for suffix in (".npz", ".safetensors"):
        p = tmp_path / f"x{suffix}"
        save_weights(state, p)
        got = load_weights(p)
        np.testing.assert_array_equal(got["t"], t.T)
        np.testing.assert_array_equal(got["p"], np.ones(2))
        assert got["s"].shape == () and got["s"] == 3.0


def test_save_is_atomic_and_replaces(tmp_path, monkeypatch):
    p = tmp_path / "w.npz"
    save_weights({"a": np.zeros(2)}, p)
    save_weights({"b": np.ones(3)}, p)
    assert list(load_weights(p)) == ["b"]
    assert sorted(os.listdir(tmp_path)) == ["w.npz"]  # no temporary file left behind

    def fail_midway(arrays, tmp, fd, progress):
        os.write(fd, b"partial")
        os.close(fd)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(weights_module, "_save_npz", fail_midway)
    with pytest.raises(WeightsError, match="No space left on device"):  # the old file stays, no temporary is left
        save_weights({"c": np.ones(1)}, p)
    assert sorted(os.listdir(tmp_path)) == ["w.npz"] and list(load_weights(p)) == ["b"]


def test_save_errors(tmp_path):
    with pytest.raises(WeightsError, match=r"\.safetensors or \.npz"):
        save_weights({"a": np.zeros(1)}, tmp_path / "w.pt")
    with pytest.raises(WeightsError, match="does not exist"):
        save_weights({"a": np.zeros(1)}, tmp_path / "missing" / "w.npz")
    with pytest.raises(WeightsError, match="of type int, not a name"):
        save_weights({1: np.zeros(1)}, tmp_path / "w.npz")
    with pytest.raises(WeightsError, match="cannot be made a NumPy array"):
        save_weights({"a": [[1], [1, 2]]}, tmp_path / "w.npz")  # ragged
    with pytest.raises(WeightsError, match="not a numeric tensor type"):
        save_weights({"a": ["text"]}, tmp_path / "w.npz")
    with pytest.raises(WeightsError, match="'weight' is a MetaArray, not a numeric array .*shape-only"):
        save_weights(nnspec.from_dict({"Linear": [2, 2]}, meta=True), tmp_path / "w.safetensors")
    (tmp_path / "d.npz").mkdir()
    with pytest.raises(WeightsError, match="directory"):
        save_weights({"a": np.zeros(1)}, tmp_path / "d.npz")


# --------------------------------------------------------------------------- files written by torch

def torch_model():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Flatten(),
                                torch.nn.Linear(2, 3))
    model.train()(torch.randn(4, 1, 3, 3))  # running stats and num_batches_tracked move off their defaults
    return torch, model


def as_numpy(sd) -> dict:
    """torch tensors as numpy arrays, bfloat16 widened to float32 as load_weights does."""
    import torch

    return {k: (v.float() if v.dtype == torch.bfloat16 else v).detach().numpy() for k, v in sd.items()}


def test_torch_state_dict(tmp_path):
    torch, model = torch_model()
    sd = model.state_dict()
    assert sd["1.num_batches_tracked"].dtype == torch.int64
    p = tmp_path / "m.pt"
    torch.save(sd, p)
    assert_same(load_weights(p), as_numpy(sd))


@pytest.mark.parametrize("wrapper", ["state_dict", "model", "model_state_dict"])
def test_torch_checkpoint_wrappers(tmp_path, wrapper):
    torch, model = torch_model()
    sd = model.state_dict()
    p = tmp_path / "ckpt.pth"
    torch.save({"epoch": 3, "lr": 0.1, "names": ["a", "b"], wrapper: sd}, p)
    assert_same(load_weights(p), as_numpy(sd))


def test_torch_views_dtypes_and_parameters(tmp_path):
    torch = pytest.importorskip("torch")
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    sd = {
        "transposed": base.t(),  # a strided view, stored with its storage as is
        "sliced": base[1:, ::2],  # an offset and strides
        "expanded": torch.tensor([1.0, 2.0]).expand(3, 2),  # a zero stride
        "half": torch.tensor([0.5, -1.25, 65504.0], dtype=torch.float16),
        "bf16": torch.tensor([1.0, -2.5, 3.140625, 1e30], dtype=torch.bfloat16),
        "double": torch.tensor([1e-300]),
        "int32": torch.tensor([1, -2], dtype=torch.int32),
        "int16": torch.tensor([3], dtype=torch.int16),
        "int8": torch.tensor([-4], dtype=torch.int8),
        "uint8": torch.tensor([250], dtype=torch.uint8),
        "bool": torch.tensor([True, False]),
        "scalar": torch.tensor(2.0),
        "empty": torch.zeros(0, 4),
        "param": torch.nn.Parameter(torch.ones(2)),
    }
    assert not sd["transposed"].is_contiguous()
    p = tmp_path / "v.bin"
    torch.save(sd, p)
    got = load_weights(p)
    want = {k: v.detach() for k, v in sd.items()}
    want["bf16"] = want["bf16"].float()
    assert_same(got, {k: v.numpy() for k, v in want.items()})
    assert got["half"].dtype == np.float16 and got["bf16"].dtype == np.float32
    assert all(a.flags.c_contiguous and a.flags.writeable for a in got.values())


def test_safetensors_written_by_torch(tmp_path):
    torch, model = torch_model()
    from safetensors.torch import save_file

    sd = dict(model.state_dict())
    sd["bf16"] = torch.tensor([[1.0, 0.5], [-3.0, 7.0]], dtype=torch.bfloat16)
    sd["half"] = torch.tensor([0.25], dtype=torch.float16)
    p = tmp_path / "m.safetensors"
    save_file(sd, str(p))
    got = load_weights(p)
    want = as_numpy({k: v.float() if v.dtype == torch.bfloat16 else v for k, v in sd.items()})
    assert_same(got, want, ordered=False)
    assert got["bf16"].dtype == np.float32 and got["half"].dtype == np.float16


def test_safetensors_order_follows_data_offsets(tmp_path):
    from safetensors.numpy import save_file

    p = tmp_path / "o.safetensors"
    save_file({"b": np.zeros(2, np.float32), "a": np.zeros(3, np.int64), "c": np.zeros(1, np.float32)}, str(p))
    n = struct.unpack("<Q", p.read_bytes()[:8])[0]
    import json

    header = json.loads(p.read_bytes()[8:8 + n])
    by_offset = sorted((v["data_offsets"][0], k) for k, v in header.items() if k != "__metadata__")
    assert list(load_weights(p)) == [k for _, k in by_offset]


# --------------------------------------------------------------------------- torch-style archives built by hand

def op_str(s: str) -> bytes:
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def op_int(n: int) -> bytes:
    return b"J" + struct.pack("<i", n)


def op_tuple(items) -> bytes:
    return b"(" + b"".join(items) + b"t"


def op_global(module: str, name: str) -> bytes:
    return b"c" + f"{module}\n{name}\n".encode()


def op_call(fn: bytes, args) -> bytes:
    return fn + op_tuple(args) + b"R"


def op_tensor(key: str, numel: int, offset: int, size, stride, storage: str = "FloatStorage") -> bytes:
    """_rebuild_tensor_v2(<storage key>, offset, size, stride, False, OrderedDict()), as torch pickles it."""
    pid = op_tuple([op_str("storage"), op_global("torch", storage), op_str(key), op_str("cpu"), op_int(numel)]) + b"Q"
    return op_call(op_global("torch._utils", "_rebuild_tensor_v2"),
                   [pid, op_int(offset), op_tuple(map(op_int, size)), op_tuple(map(op_int, stride)), b"\x89",
                    op_call(op_global("collections", "OrderedDict"), [])])


def op_dict(items: dict) -> bytes:
    return b"}(" + b"".join(op_str(k) + v for k, v in items.items()) + b"u"


def write_archive(path, pickled: bytes, storages: dict[str, bytes] | None = None, prefix: str = "archive") -> None:
    """A zip laid out as torch.save lays it out."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{prefix}/data.pkl", pickled)
        zf.writestr(f"{prefix}/byteorder", "little")
        for key, data in (storages or {}).items():
            zf.writestr(f"{prefix}/data/{key}", data)
        zf.writestr(f"{prefix}/version", "3\n")


def hand_made(path, items: dict, storages: dict[str, bytes]) -> None:
    write_archive(path, b"\x80\x02" + op_dict(items) + b".", storages)


def test_hand_made_archive_loads(tmp_path):
    p = tmp_path / "h.pt"
    data = np.arange(6, dtype="<f4").tobytes()
    hand_made(p, {"w": op_tensor("0", 6, 1, (2, 2), (1, 2)), "b": op_tensor("1", 2, 0, (2,), (1,), "LongStorage")},
              {"0": data, "1": np.array([5, -6], "<i8").tobytes()})
    got = load_weights(p)
    assert list(got) == ["w", "b"]
    np.testing.assert_array_equal(got["w"], [[1, 3], [2, 4]])  # w[i, j] = storage[1 + i + 2 j]
    np.testing.assert_array_equal(got["b"], [5, -6])


def test_big_endian_archive(tmp_path):
    p = tmp_path / "be.pt"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02" + op_dict({"w": op_tensor("0", 3, 0, (3,), (1,))}) + b".")
        zf.writestr("archive/byteorder", "big")
        zf.writestr("archive/data/0", np.array([1.0, 2.0, -3.0], ">f4").tobytes())
    got = load_weights(p)["w"]
    assert got.dtype == np.float32 and got.dtype.isnative
    np.testing.assert_array_equal(got, [1.0, 2.0, -3.0])


# --------------------------------------------------------------------------- malicious pickles

class Shell:
    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class Eval:
    def __reduce__(self):
        return (eval, ("1 + 1",))


@pytest.mark.parametrize("protocol", [2, 4])
def test_pickle_calling_os_system_is_refused(tmp_path, protocol):
    marker = tmp_path / "pwned"
    p = tmp_path / "evil.pt"
    write_archive(p, pickle.dumps({"w": Shell(f"touch {marker}")}, protocol=protocol))
    with pytest.raises(WeightsError, match=r"(os|posix)\.system") as e:
        load_weights(p)
    assert str(p) in str(e.value) and "\n" not in str(e.value)
    assert not marker.exists()


def test_refused_global_before_allowed_calls_run(tmp_path, monkeypatch):
    """A bad global refuses the file before any admitted call (reading a storage, say) has run."""
    calls = []
    monkeypatch.setattr(weights_module._TorchUnpickler, "persistent_load", lambda self, pid: calls.append(pid))
    p = tmp_path / "evil.pt"
    items = {"w": op_tensor("0", 1, 0, (1,), (1,)), "x": op_call(op_global("posix", "system"), [op_str("true")])}
    hand_made(p, items, {"0": b"\0" * 4})
    with pytest.raises(WeightsError, match=r"posix\.system"):
        load_weights(p)
    assert calls == []


def test_pickle_calling_eval_is_refused(tmp_path):
    p = tmp_path / "evil.pth"
    write_archive(p, pickle.dumps({"w": Eval()}, protocol=2))
    with pytest.raises(WeightsError, match=r"builtins\.eval"):
        load_weights(p)


def test_whole_pickled_module_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    p = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(2, 2), p)
    with pytest.raises(WeightsError, match=r"torch\.nn\.modules\.linear\.Linear.*state_dict\(\)"):
        load_weights(p)


def test_whole_module_by_hand_is_refused(tmp_path):
    p = tmp_path / "model.pt"
    hand_made(p, {"m": op_call(op_global("torch.nn.modules.linear", "Linear"), [op_int(2), op_int(2)])}, {})
    with pytest.raises(WeightsError, match=r"torch\.nn\.modules\.linear\.Linear"):
        load_weights(p)


def test_pickle_cannot_alter_loader_objects(tmp_path):
    """BUILD on a rebuilt tensor (to swap its array) is refused, not obeyed."""
    p = tmp_path / "b.pt"
    build = op_tensor("0", 1, 0, (1,), (1,)) + b"N" + op_dict({"array": op_str("x")}) + b"\x86" + b"b"
    hand_made(p, {"w": build}, {"0": b"\0" * 4})
    with pytest.raises(WeightsError, match="corrupt"):
        load_weights(p)


# --------------------------------------------------------------------------- broken and unexpected files

def test_missing_directory_and_suffix(tmp_path):
    with pytest.raises(WeightsError, match="no such weight file"):
        load_weights(tmp_path / "nope.pt")
    (tmp_path / "d.safetensors").mkdir()
    with pytest.raises(WeightsError, match="directory"):
        load_weights(tmp_path / "d.safetensors")
    (tmp_path / "w.h5").write_bytes(b"x")
    with pytest.raises(WeightsError, match="unknown weight file suffix '.h5'") as e:
        load_weights(tmp_path / "w.h5")
    assert str(e.value).startswith(str(tmp_path / "w.h5") + ": ")


def test_truncated_zip(tmp_path):
    torch, model = torch_model()
    p = tmp_path / "m.pt"
    torch.save(model.state_dict(), p)
    data = p.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 30):
        p.write_bytes(data[:cut])
        with pytest.raises(WeightsError):
            load_weights(p)


def test_corrupt_storage_inside_archive(tmp_path):
    torch, model = torch_model()
    p = tmp_path / "m.pt"
    torch.save(model.state_dict(), p)
    raw = bytearray(p.read_bytes())
    with zipfile.ZipFile(p) as zf:
        info = next(i for i in zf.infolist() if i.filename.endswith("/data/0"))
    name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
    raw[info.header_offset + 30 + name_len + extra_len + 2] ^= 0xFF  # flip a data byte: bad CRC
    p.write_bytes(bytes(raw))
    with pytest.raises(WeightsError, match="corrupt .pt file"):
        load_weights(p)


def test_storage_key_missing(tmp_path):
    p = tmp_path / "m.pt"
    hand_made(p, {"w": op_tensor("0", 2, 0, (2,), (1,)), "b": op_tensor("7", 2, 0, (2,), (1,))}, {"0": b"\0" * 8})
    with pytest.raises(WeightsError, match="storage 'archive/data/7' is missing"):
        load_weights(p)


@pytest.mark.parametrize("numel, offset, size, stride, match", [
    (6, 5, (2,), (1,), "reads past the end"),
    (6, 0, (2, 4), (4, 1), "reads past the end"),
    (6, 0, (7,), (1,), "reads past the end"),
    (6, 6, (1,), (1,), "reads past the end"),
    (6, 0, (3, 3), (0, 3), "reads past the end"),
    (6, -1, (2,), (1,), "invalid offset"),
    (6, 0, (2,), (-1,), "invalid offset"),
    (6, 0, (2, 2), (1,), "invalid offset"),
    (100, 0, (2,), (1,), "fewer than its 100"),  # numel larger than the storage's bytes
])
def test_offsets_out_of_range(tmp_path, numel, offset, size, stride, match):
    p = tmp_path / "m.pt"
    hand_made(p, {"w": op_tensor("0", numel, offset, size, stride)}, {"0": np.zeros(6, "<f4").tobytes()})
    with pytest.raises(WeightsError, match=match):
        load_weights(p)


def test_not_a_state_dict(tmp_path):
    p = tmp_path / "l.pt"
    write_archive(p, pickle.dumps([1, 2], protocol=2))
    with pytest.raises(WeightsError, match="holds a list, not a state_dict"):
        load_weights(p)
    write_archive(p, pickle.dumps({"epoch": 3}, protocol=2))
    with pytest.raises(WeightsError, match="'epoch' in the file is not a tensor \\(type int\\)"):
        load_weights(p)
    write_archive(p, b"\x80\x02" + op_dict({"state_dict": op_dict({"w": op_int(1)})}) + b".")
    with pytest.raises(WeightsError, match="'w' in the file's 'state_dict' entry is not a tensor"):
        load_weights(p)


def test_not_a_torch_archive(tmp_path):
    p = tmp_path / "x.pt"
    p.write_bytes(pickle.dumps({"w": 1}))  # a bare pickle, like the legacy format: never unpickled
    with pytest.raises(WeightsError, match="not a zip archive"):
        load_weights(p)
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(WeightsError, match="data.pkl"):
        load_weights(p)
    write_archive(p, b"\x80\x02garbage")
    with pytest.raises(WeightsError, match="corrupt .pt file"):
        load_weights(p)


def test_resource_limits(tmp_path, monkeypatch):
    p = tmp_path / "m.pt"
    hand_made(p, {"w": op_tensor("0", 1000, 0, (1000,), (1,))}, {"0": np.zeros(1000, "<f4").tobytes()})
    assert load_weights(p)["w"].shape == (1000,)
    with pytest.raises(WeightsError, match="limit of 1,000 bytes"):
        load_weights(p, max_bytes=1000)
    # a zero stride may not turn a small storage into a huge array
    hand_made(p, {"w": op_tensor("0", 1, 0, (1 << 30, 1 << 30), (0, 0))}, {"0": b"\0" * 4})
    with pytest.raises(WeightsError, match="limit"):
        load_weights(p, max_bytes=1 << 30)
    monkeypatch.setattr(weights_module, "MAX_PICKLE_BYTES", 16)
    hand_made(p, {"w": op_tensor("0", 1, 0, (1,), (1,))}, {"0": b"\0" * 4})
    with pytest.raises(WeightsError, match="over the limit"):
        load_weights(p)


def test_declared_entry_size_is_checked(tmp_path):
    """An entry whose central directory declares a huge size is refused before it is read."""
    p = tmp_path / "m.pt"
    hand_made(p, {"w": op_tensor("0", 1, 0, (1,), (1,))}, {"0": b"\0" * 4})
    raw = bytearray(p.read_bytes())
    with zipfile.ZipFile(p) as zf:
        info = zf.getinfo("archive/data/0")
    at = raw.index(b"PK\x01\x02")  # the first central directory record
    while raw[at + 46:at + 46 + len(info.filename)] != info.filename.encode():
        at = raw.index(b"PK\x01\x02", at + 4)
    assert info.file_size == 4
    raw[at + 24:at + 28] = struct.pack("<I", 0xFFFFFFF0)  # declared uncompressed size
    p.write_bytes(bytes(raw))
    with pytest.raises(WeightsError, match="storage 'archive/data/0' declares 4,294,967,280 bytes, more than its 1 "
                                           r"FloatStorage elements need \(4\)"):
        load_weights(p, max_bytes=1 << 20)


def test_garbage_safetensors(tmp_path):
    p = tmp_path / "g.safetensors"
    cases = [
        (b"", "too short"),
        (b"\xff" * 8 + b"{}", "header length"),
        (struct.pack("<Q", 4) + b"nope", "not valid JSON"),
        (struct.pack("<Q", 2) + b"[]", "not a JSON object"),
        (struct.pack("<Q", 2) + b"\xff\xfe", "not valid JSON"),
    ]
    header = b'{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}'
    cases.append((struct.pack("<Q", len(header)) + header + b"\0" * 8, "outside the file"))
    header = b'{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}'
    cases.append((struct.pack("<Q", len(header)) + header + b"\0" * 16, "needs 12 bytes"))
    header = b'{"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}'
    cases.append((struct.pack("<Q", len(header)) + header + b"\0", "NumPy cannot hold"))
    header = b'{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}'
    cases.append((struct.pack("<Q", len(header)) + header + b"\0" * 4, "invalid shape"))
    header = (b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
              b'"v":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}')
    cases.append((struct.pack("<Q", len(header)) + header + b"\0" * 4, "corrupt .safetensors"))  # overlapping
    for data, match in cases:
        p.write_bytes(data)
        with pytest.raises(WeightsError, match=match):
            load_weights(p)


def test_bad_npz(tmp_path):
    p = tmp_path / "o.npz"
    np.savez(p, a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(WeightsError, match="Python objects"):
        load_weights(p)
    np.savez(p, s=np.array(["text"]))
    with pytest.raises(WeightsError, match="not a numeric"):
        load_weights(p)
    p.write_bytes(b"not a zip")
    with pytest.raises(WeightsError, match="not an .npz archive"):
        load_weights(p)
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(WeightsError, match="not a .npy array"):
        load_weights(p)
    buf = io.BytesIO()  # a header that claims far more data than the entry holds
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False, "shape": (1 << 40,)})
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("w.npy", buf.getvalue() + b"\0" * 16)
    with pytest.raises(WeightsError, match="declares 4,398,046,511,104 bytes"):
        load_weights(p)
    np.savez(p, a=np.zeros(4))
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError):
        load_weights(p)


def test_errors_are_one_line_and_name_the_file(tmp_path):
    p = tmp_path / "m.safetensors"
    p.write_bytes(b"\x01\0\0\0\0\0\0\0{")
    with pytest.raises(WeightsError) as e:
        load_weights(p)
    assert str(e.value).startswith(f"{p}: ") and "\n" not in str(e.value)
    assert isinstance(e.value, nnspec.NNSpecError)


def test_ordered_dict_input_order_is_kept(tmp_path):
    sd = OrderedDict((k, np.full(2, i, np.float32)) for i, k in enumerate(["z", "a", "m"]))
    p = tmp_path / "o.npz"
    save_weights(sd, p)
    assert list(load_weights(p)) == ["z", "a", "m"]


# --------------------------------------------------------------------------- found in review: hostile structure

_P2 = b"\x80\x02"


def _shared_doubling(n: int) -> bytes:
    """t = (t, t), n times, through the memo: tiny as bytes, 2**n values as a tree."""
    body = b")q\x00"  # an empty tuple, memo 0
    for i in range(n):
        body += b"h" + bytes([i]) + b"h" + bytes([i]) + b"\x86q" + bytes([i + 1])  # (t, t), memo i + 1
    return body


@pytest.mark.parametrize("pickled,phrase", [
    (_P2 + b"})" + b"\x85" * 100_000 + b")s.", "nests values more than 100 deep"),  # a segfault in hashing
    (_P2 + b"}" + _shared_doubling(40) + b")s.", "counted with every shared reference"),  # an exponential hash
    (_P2 + b"}r\xff\xff\xff\x3f.", "memo index"),  # CPython would grow its memo to 16 GB
], ids=["deep", "shared", "memo"])
def test_hostile_pickle_structure_is_refused_before_unpickling(tmp_path, pickled, phrase):
    p = tmp_path / "m.pt"
    write_archive(p, pickled)
    with pytest.raises(WeightsError, match=phrase):
        load_weights(p)


def test_a_pickle_cannot_rewrite_the_functions_it_may_call(tmp_path):
    """BUILD on an admitted callable would setattr on nnspec's own function; it is read-only."""
    p = tmp_path / "m.pt"
    state = b"}X\x0c\x00\x00\x00__defaults__)s"
    write_archive(p, _P2 + b"ctorch._utils\n_rebuild_parameter\n" + b"N" + state + b"\x86b.")
    with pytest.raises(WeightsError, match="read-only"):
        load_weights(p)
    from nnspec import weights

    assert weights._rebuild_parameter.__defaults__ == (None,)
