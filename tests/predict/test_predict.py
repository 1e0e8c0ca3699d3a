"""``nnspec predict`` (issue 18): a model over data larger than a worker's memory, on a Dask cluster, into a Zarr
store, losing nothing: a worker killed mid-run, a run interrupted and resumed, bad chunks named by index.

The clusters are small (2 worker processes, one thread each) and the model tiny, for 2 cores; a worker is killed
and a run interrupted at a point the test sets (a worker's own 3rd task, the 5th chunk done), never after a sleep.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import sys
from pathlib import Path

import numpy
import pytest
from predict_helpers import (
    assert_same,
    FEATURES,
    need_dask_extra,
    reference,
    write_model,
    write_npy,
    write_zarr,
    writes,
)

need_dask_extra()

import cloudpickle  # noqa: E402 - after the skip: it comes with distributed
import zarr  # noqa: E402
from distributed import Client, LocalCluster, WorkerPlugin  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import nnspec  # noqa: E402
import nnspec_cli.predict  # noqa: E402, F401 - registers the command (whether or not the CLI lists it yet)
from nnspec.distributed import BadChunkError, PredictError  # noqa: E402
from nnspec_cli import app  # noqa: E402

runner = CliRunner()
MiB = 1 << 20
WORKER_MEMORY = 256 * MiB


def _cluster(**kwargs) -> LocalCluster:
    options = dict(n_workers=2, threads_per_worker=1, processes=True, memory_limit=WORKER_MEMORY,
                   dashboard_address=":0", silence_logs=logging.ERROR)
    return LocalCluster(**{**options, **kwargs})


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes of 256 MiB each, shared by the tests that kill nothing."""
    with _cluster() as c, Client(c, set_as_default=False) as client:
        yield c, client


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return write_model(tmp_path_factory.mktemp("model"))


def predict_cli(*args: str) -> tuple[int, dict | str]:
    r = runner.invoke(app, ["predict", *map(str, args), "--json"])
    try:
        return r.exit_code, json.loads(r.stdout)
    except ValueError:
        return r.exit_code, r.output


def _peak_rss() -> int:
    """This process's peak resident memory in bytes: VmHWM, which its exec started afresh (getrusage's maxrss
    would count the memory of the process that spawned it, here this test run's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    pytest.skip("no /proc/self/status VmHWM (not Linux)")


def test_an_input_three_times_a_workers_memory_comes_out_as_one_run_would_make_it(cluster, model, tmp_path):
    """Done when (1): 800 MiB of rows through workers of 256 MiB each, on the command line: every output chunk
    equals (to float32 rounding) the model run on the whole array at once in this process, each worker built the
    model once, and no worker went past its memory (none was restarted, each one's peak resident memory under
    the limit)."""
    local, client = cluster
    model_file, weights = model
    rows, chunk_rows = 3_276_800, 32_768  # 800 MiB of float32 rows of 64, in 100 chunks of 8 MiB
    data, out = tmp_path / "in.zarr", tmp_path / "out.zarr"
    try:
        write_zarr(data, rows, chunk_rows)
        assert rows * FEATURES * 4 >= 3 * WORKER_MEMORY
        pids = client.run(os.getpid)
        code, summary = predict_cli(model_file, "-w", weights, "-i", data, "-o", out,
                                    "--cluster", local.scheduler_address)
        assert code == 0, summary
        assert summary["written"] == summary["chunks"] == 100 and summary["rows_written"] == rows
        assert summary["skipped"] == 0 and summary["bad"] == []
        assert summary["model_loads"] == 2  # once per worker, not once per chunk
        assert client.run(os.getpid) == pids  # no worker was killed for its memory and restarted
        peaks = client.run(_peak_rss)
        assert all(peak < WORKER_MEMORY for peak in peaks.values()), peaks
        assert writes(out) == {i: 1 for i in range(100)}

        y = zarr.open_array(str(out), mode="r")
        assert y.shape == (rows, 2) and y.chunks == (chunk_rows, 2) and y.dtype == numpy.float32
        x = zarr.open_array(str(data), mode="r")[:]
        assert_same(y[:], reference(model_file, weights, x))
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


class KillOnce(WorkerPlugin):
    """Kill the worker it runs in (SIGKILL, as the kernel's OOM killer does) as it starts its ``nth`` chunk, once in
    the whole cluster: the first worker to get there makes ``marker``, holding its pid, and dies; the others,
    and the worker that replaces it, find the marker and go on."""

    name = "kill-once"

    def __init__(self, marker: str, nth: int):
        self.marker, self.nth, self.started = marker, nth, 0

    def transition(self, key, start, finish, **kwargs):
        if finish != "executing" or not str(key).startswith("nnspec-predict-"):
            return
        self.started += 1
        if self.started != self.nth:
            return
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_killed_mid_run_loses_no_chunk_and_writes_none_twice(model, tmp_path):
    """Done when (2), first half: a worker dies as it starts a chunk; Dask runs its chunks again elsewhere (and
    the chunks it had finished, whose results died with it: found written and verified, not written again)."""
    model_file, weights = model
    data, out, marker = tmp_path / "in.zarr", tmp_path / "out.zarr", tmp_path / "killed"
    write_zarr(data, 24 * 500, 500)
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the plugin's class, sent to the workers
    try:
        with _cluster() as local, Client(local, set_as_default=False) as client:
            client.register_plugin(KillOnce(str(marker), nth=3))
            summary = nnspec.predict(model_file, data, out, weights=weights, cluster=client)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    killed = int(marker.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(killed, 0)
    assert summary.written + summary.skipped == summary.chunks == 24 and summary.bad == []
    assert writes(out) == {i: 1 for i in range(24)}  # every chunk written, and once
    x = zarr.open_array(str(data), mode="r")[:]
    assert_same(zarr.open_array(str(out), mode="r")[:], reference(model_file, weights, x))


def test_an_interrupted_run_resumes_and_writes_only_the_missing_chunks(model, tmp_path):
    """Done when (2), second half: the run is interrupted (Ctrl-C: KeyboardInterrupt, here from the callback) once
    6 chunks are done, while its workers wait to read the 7th and 8th (their files are named pipes that nothing
    writes yet: the other 10 chunks can't be done before the interrupt, however fast the workers); the local
    cluster closes, killing them. The rerun, on the command line with the same arguments once the pipes are real
    chunks, writes exactly the 10 chunks that were missing."""
    model_file, weights = model
    data, out = tmp_path / "in.zarr", tmp_path / "out.zarr"
    z = write_zarr(data, 16 * 300 - 180, 300, compress=True)  # 16 chunks, the last one short
    x = z[:]
    for i in range(6, 16):  # held back: a worker reading one waits for a writer
        (data / "c" / str(i) / "0").unlink()
        os.mkfifo(data / "c" / str(i) / "0")
    seen = []

    def interrupt_at_six(result):
        seen.append(result.chunk)
        if len(seen) == 6:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        nnspec.predict(model_file, data, out, weights=weights, workers=2, on_chunk=interrupt_at_six)
    assert sorted(seen) == list(range(6))
    assert sorted(int(p.stem) for p in (out / ".nnspec" / "chunks").glob("*.json")) == list(range(6))
    assert writes(out) == {i: 1 for i in range(6)}

    z[6 * 300:] = x[6 * 300:]  # the held-back chunks, written for real (over the pipes)
    code, summary = predict_cli(model_file, "-w", weights, "-i", data, "-o", out, "--workers", "2")
    assert code == 0, summary
    assert summary["resumed"] and (summary["skipped"], summary["written"]) == (6, 10)
    assert writes(out) == {i: 1 for i in range(16)}  # the missing ones written once, the others not again
    assert_same(zarr.open_array(str(out), mode="r")[:], reference(model_file, weights, x))

    code, summary = predict_cli(model_file, "-w", weights, "-i", data, "-o", out, "--workers", "1")
    assert code == 0 and (summary["skipped"], summary["written"]) == (16, 0), summary
    assert writes(out) == {i: 1 for i in range(16)}


def test_a_chunk_changed_or_damaged_since_it_was_written_is_written_again(cluster, model, tmp_path):
    local, client = cluster
    model_file, _ = model
    data, out = tmp_path / "in.zarr", tmp_path / "out.zarr"
    write_zarr(data, 1000, 250)
    first = nnspec.predict(model_file, data, out, cluster=client)
    assert first.written == 4
    z = zarr.open_array(str(data), mode="r+")
    z[250:260] = 0  # the input of chunk 1 changed in place (its metadata did not)
    (out / "c" / "3" / "0").write_bytes(b"garbage")  # the output of chunk 3 damaged
    again = nnspec.predict(model_file, data, out, cluster=client)
    assert (again.written, again.skipped) == (2, 2)
    assert writes(out) == {0: 1, 1: 2, 2: 1, 3: 2}
    assert_same(zarr.open_array(str(out), mode="r")[:], reference(model_file, None, z[:]))


def test_bad_chunks_are_named_by_index_and_skipped_or_fail_the_run(cluster, model, tmp_path):
    local, client = cluster
    model_file, weights = model
    data = tmp_path / "parts"
    x = write_npy(data, [100] * 6)
    numpy.save(data / "part-2.npy", numpy.zeros((100, FEATURES + 1), numpy.float32))  # wrong-shaped
    whole = (data / "part-4.npy").read_bytes()
    (data / "part-4.npy").write_bytes(whole[: len(whole) // 2])  # truncated: its header is whole, its data not

    out = tmp_path / "fail.zarr"
    code, errors = predict_cli(model_file, "-w", weights, "-i", data, "-o", out, "--cluster",
                               local.scheduler_address)
    assert code == 1
    assert errors["errors"][0]["kind"] == "bad chunk"
    assert "input chunk 2 (part-2.npy, rows 200-299)" in errors["errors"][0]["message"]
    assert writes(out) == {}  # found from the file's header: nothing ran

    out = tmp_path / "skip.zarr"
    seen = []
    summary = nnspec.predict(model_file, data, out, weights=weights, cluster=client, on_bad_chunk="skip",
                             on_chunk=seen.append)
    assert [b["chunk"] for b in summary.bad] == [2, 4]
    assert "shape" in summary.bad[1]["message"] or "cannot read" in summary.bad[1]["message"]
    assert summary.written == 4 and sorted(r.chunk for r in seen if r.status == "bad") == [2, 4]
    assert writes(out) == {0: 1, 1: 1, 3: 1, 5: 1}
    y = zarr.open_array(str(out), mode="r")[:]
    assert numpy.isnan(y[200:300]).all() and numpy.isnan(y[400:500]).all()  # never written, not half written
    good = numpy.r_[0:200, 300:400, 500:600]
    assert_same(y[good], reference(model_file, weights, x[good]))

    # the truncated file alone is found only when a worker reads it: it fails the run with its index
    (data / "part-2.npy").unlink()
    out = tmp_path / "fail2.zarr"
    with pytest.raises(BadChunkError, match=r"input chunk 3 \(part-4.npy, rows 300-399\): cannot read it") as e:
        nnspec.predict(model_file, data, out, weights=weights, cluster=client)
    assert e.value.chunk == 3


def test_a_corrupt_zarr_chunk_is_named_by_index(cluster, model, tmp_path):
    local, client = cluster
    model_file, _ = model
    data = tmp_path / "in.zarr"
    write_zarr(data, 400, 100, compress=True)
    (data / "c" / "2" / "0").write_bytes(b"\x00" * 50)  # not zstd
    summary = nnspec.predict(model_file, data, tmp_path / "out.zarr", cluster=client, on_bad_chunk="skip")
    assert [b["chunk"] for b in summary.bad] == [2] and summary.written == 3
    assert summary.bad[0]["message"].startswith("input chunk 2 (rows 200-299): cannot read it")


def test_mistakes_are_one_clear_line_before_anything_runs(model, tmp_path):
    """No cluster starts for any of these: each is found first, from the files alone."""
    model_file, weights = model
    data = tmp_path / "in.zarr"
    write_zarr(data, 100, 50)

    def fails(*args: str) -> str:
        r = runner.invoke(app, ["predict", *map(str, args)])
        assert r.exit_code == 1 and "Traceback" not in r.output, r.output
        assert r.stderr.startswith(("error: ", str(model_file), "/")) and r.stderr.count("\n") == 1, r.stderr
        return r.stderr

    assert "no such input: 'nope.zarr'" in fails(model_file, "-i", "nope.zarr", "-o", tmp_path / "o.zarr")
    narrow = tmp_path / "narrow.zarr"
    write_zarr(narrow, 100, 50, features=FEATURES - 1)
    text = fails(model_file, "-i", narrow, "-o", tmp_path / "o.zarr")
    assert text.startswith(f"{model_file}:3:5: ") and "63" in text  # the first Linear's line and column
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    assert "was not written by nnspec predict" in fails(model_file, "-i", data, "-o", other, "--overwrite")
    assert (other / "keep.txt").read_text() == "mine"
    assert "does not exist" in fails(model_file, "-i", data, "-o", tmp_path / "no" / "o.zarr")
    folder = tmp_path / "empty"
    folder.mkdir()
    assert "neither a Zarr store" in fails(model_file, "-i", folder, "-o", tmp_path / "o.zarr")
    assert "no .npy files match" in fails(model_file, "-i", tmp_path / "*.npy", "-o", tmp_path / "o.zarr")
    r = runner.invoke(app, ["predict", str(model_file), "-i", str(data), "-o", "o.zarr", "--on-bad-chunk", "x"])
    assert r.exit_code == 2 and "choose fail or skip" in r.output
    r = runner.invoke(app, ["predict", str(model_file), "-i", str(data), "-o", "o.zarr", "--cluster", "tcp://x:1",
                            "--workers", "2"])
    assert r.exit_code == 2 and "an existing cluster has its own" in r.output


def test_an_output_of_another_run_is_refused_unless_overwritten(cluster, model, tmp_path):
    local, client = cluster
    model_file, weights = model
    data, out = tmp_path / "in.zarr", tmp_path / "out.zarr"
    write_zarr(data, 200, 100)
    nnspec.predict(model_file, data, out, cluster=client)
    with pytest.raises(PredictError, match="the output of a run with other weights; give --overwrite"):
        nnspec.predict(model_file, data, out, weights=weights, cluster=client)
    summary = nnspec.predict(model_file, data, out, weights=weights, cluster=client, overwrite=True)
    assert summary.written == 2 and not summary.resumed and writes(out) == {0: 1, 1: 1}
    x = zarr.open_array(str(data), mode="r")[:]
    assert_same(zarr.open_array(str(out), mode="r")[:], reference(model_file, weights, x))


def test_a_conv_model_on_images_from_a_glob_of_npy_files(cluster, tmp_path):
    """A model whose rows are images and whose output keeps several axes: (N, 1, 28, 28) -> (N, 20, 20, 20)."""
    local, client = cluster
    model_file = Path(__file__).resolve().parents[2] / "models" / "seed" / "model_two_convs.yaml"
    rng = numpy.random.default_rng(3)
    parts = [rng.standard_normal((n, 1, 28, 28), dtype=numpy.float32) for n in (8, 8, 5)]
    for i, part in enumerate(parts):
        numpy.save(tmp_path / f"img-{i}.npy", part)
    summary = nnspec.predict(model_file, str(tmp_path / "img-*.npy"), tmp_path / "out.zarr", cluster=client,
                             batch_size=3)
    assert summary.written == 3 and summary.batch_size == 3
    y = zarr.open_array(str(tmp_path / "out.zarr"), mode="r")
    assert y.shape == (21, 20, 20, 20) and y.chunks == (8, 20, 20, 20)
    assert_same(y[:], reference(model_file, None, numpy.concatenate(parts)))


def test_a_chunk_too_big_for_a_worker_is_refused_before_anything_is_written(cluster, model, tmp_path):
    local, client = cluster
    model_file, _ = model
    data, out = tmp_path / "in.zarr", tmp_path / "out.zarr"
    # one chunk of 256 MB (only described: no chunk of it is ever written or read)
    zarr.create_array(store=str(data), shape=(1_000_000, FEATURES), chunks=(1_000_000, FEATURES), dtype="float32")
    with pytest.raises(PredictError, match=r"a worker would hold about [\d,]+ bytes at once .* more than half its "
                                           r"memory limit of 268,435,456: give a smaller --batch-size"):
        nnspec.predict(model_file, data, out, cluster=client)
    assert not out.exists()
