"""The memory budget: the least of free physical memory, RLIMIT_AS / RLIMIT_DATA (less what is used) and the
cgroup's limit, each read from files and calls that the tests replace."""

from __future__ import annotations

import resource

import pytest

from nnspec import resources

GIB = 1 << 30


def fake_proc(tmp_path, cgroup: str, vm_size: int = 0, vm_data: int = 0):
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "cgroup").write_text(cgroup)
    (proc / "status").write_text(f"Name:\tpython\nVmSize:\t{vm_size // 1024} kB\nVmData:\t{vm_data // 1024} kB\n")
    return proc


def write(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def test_cgroup_v2_limit_less_usage(tmp_path):
    root = tmp_path / "cg"
    proc = fake_proc(tmp_path, "0::/user.slice/job\n")
    write(root / "user.slice" / "job" / "memory.max", str(3 * GIB))
    write(root / "user.slice" / "job" / "memory.current", str(1 * GIB))
    assert resources.cgroup_free(root, proc) == 2 * GIB


def test_cgroup_file_cache_is_not_counted_as_used(tmp_path):
    root = tmp_path / "cg"
    proc = fake_proc(tmp_path, "0::/\n")
    write(root / "memory.max", str(4 * GIB))
    write(root / "memory.current", str(4 * GIB))
    write(root / "memory.stat", f"anon {GIB}\nfile {3 * GIB}\ninactive_file {2 * GIB}\n")
    assert resources.cgroup_free(root, proc) == 2 * GIB


def test_cgroup_v2_parent_limit_binds_and_max_is_no_limit(tmp_path):
    root = tmp_path / "cg"
    proc = fake_proc(tmp_path, "0::/a/b\n")
    write(root / "a" / "b" / "memory.max", "max")
    write(root / "a" / "b" / "memory.current", str(GIB))
    write(root / "a" / "memory.max", str(2 * GIB))
    write(root / "a" / "memory.current", str(GIB // 2))
    assert resources.cgroup_free(root, proc) == 2 * GIB - GIB // 2
    write(root / "a" / "memory.max", "max")
    assert resources.cgroup_free(root, proc) is None


def test_cgroup_v1_limit_less_usage(tmp_path):
    root = tmp_path / "cg"
    proc = fake_proc(tmp_path, "5:devices:/\n4:memory:/docker/abc\n0::/\n")
    write(root / "memory" / "docker" / "abc" / "memory.limit_in_bytes", str(4 * GIB))
    write(root / "memory" / "docker" / "abc" / "memory.usage_in_bytes", str(3 * GIB))
    assert resources.cgroup_free(root, proc) == GIB
    # v1 writes "no limit" as a number near 2**63
    write(root / "memory" / "docker" / "abc" / "memory.limit_in_bytes", "9223372036854771712")
    assert resources.cgroup_free(root, proc) is None


def test_cgroup_inside_a_container_namespace(tmp_path):
    """In a container the cgroup's own folder is mounted at the root: the limit is read there."""
    root = tmp_path / "cg"
    proc = fake_proc(tmp_path, "0::/\n")
    write(root / "memory.max", str(GIB))
    write(root / "memory.current", str(GIB + 5))  # over: nothing left, never negative
    assert resources.cgroup_free(root, proc) == 0


def test_no_cgroup_files(tmp_path):
    assert resources.cgroup_free(tmp_path / "none", tmp_path / "none") is None


def test_rlimits_less_what_the_process_uses(tmp_path, monkeypatch):
    proc = fake_proc(tmp_path, "", vm_size=GIB, vm_data=GIB // 4)
    limits = {resource.RLIMIT_AS: (4 * GIB, resource.RLIM_INFINITY), resource.RLIMIT_DATA: (resource.RLIM_INFINITY,) * 2}
    monkeypatch.setattr(resources, "_getrlimit", lambda which: limits[which])
    assert resources.rlimit_free(proc) == 3 * GIB
    limits[resource.RLIMIT_DATA] = (2 * GIB, 2 * GIB)
    assert resources.rlimit_free(proc) == 2 * GIB - GIB // 4
    limits[resource.RLIMIT_AS] = limits[resource.RLIMIT_DATA] = (resource.RLIM_INFINITY,) * 2
    assert resources.rlimit_free(proc) is None


def test_available_memory_is_the_least(tmp_path, monkeypatch):
    root = tmp_path / "cg"
    proc = fake_proc(tmp_path, "0::/\n", vm_size=GIB)
    write(root / "memory.max", str(8 * GIB))
    write(root / "memory.current", str(GIB))
    monkeypatch.setattr(resources, "CGROUP_ROOT", root)
    monkeypatch.setattr(resources, "PROC_SELF", proc)
    monkeypatch.setattr(resources, "physical_free", lambda: 64 * GIB)
    limits = {resource.RLIMIT_AS: (resource.RLIM_INFINITY,) * 2, resource.RLIMIT_DATA: (resource.RLIM_INFINITY,) * 2}
    monkeypatch.setattr(resources, "_getrlimit", lambda which: limits[which])
    assert resources.available_memory() == 7 * GIB  # the cgroup
    limits[resource.RLIMIT_AS] = (4 * GIB, 4 * GIB)
    assert resources.available_memory() == 3 * GIB  # RLIMIT_AS less VmSize
    monkeypatch.setattr(resources, "physical_free", lambda: GIB)
    assert resources.available_memory() == GIB  # free memory
    monkeypatch.setattr(resources, "physical_free", lambda: None)
    monkeypatch.setattr(resources, "CGROUP_ROOT", tmp_path / "none")
    limits[resource.RLIMIT_AS] = (resource.RLIM_INFINITY,) * 2
    assert resources.available_memory() is None


def test_the_weights_budget_follows_the_address_space_limit(tmp_path, monkeypatch):
    """A storage that fits free memory but not RLIMIT_AS is refused before it is read."""
    import numpy as np

    from nnspec import WeightsError, load_weights, save_weights

    p = tmp_path / "w.npz"
    save_weights({"w": np.zeros(1000, np.float32)}, p)
    monkeypatch.setattr(resources, "physical_free", lambda: 64 * GIB)
    monkeypatch.setattr(resources, "cgroup_free", lambda: None)
    monkeypatch.setattr(resources, "rlimit_free", lambda: 1000)
    with pytest.raises(WeightsError, match="more than the limit of 1,000 bytes"):
        load_weights(p)
