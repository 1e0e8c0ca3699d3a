"""``nnspec.dask.map_model``: a model over a Dask array's rows, for a Dask pipeline of one's own."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy
import pytest
from predict_helpers import FEATURES, assert_same, need_dask_extra, reference, write_model

need_dask_extra()

import dask  # noqa: E402
import dask.array as da  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import nnspec  # noqa: E402
import nnspec.dask  # noqa: E402
from nnspec.distributed import PredictError  # noqa: E402

CONVS = Path(__file__).resolve().parents[2] / "models" / "seed" / "model_two_convs.yaml"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return write_model(tmp_path_factory.mktemp("model"))


def test_a_model_file_over_a_dask_array_with_dasks_own_scheduler(model):
    model_file, weights = model
    x = numpy.random.default_rng(0).standard_normal((1000, FEATURES), dtype=numpy.float32)
    y = nnspec.dask.map_model(model_file, da.from_array(x, chunks=(300, 32)), weights=weights, batch_size=64)
    assert y.shape == (1000, 2) and y.chunks == ((300, 300, 300, 100), (2,)) and y.dtype == numpy.float32
    with dask.config.set(scheduler="threads"):
        assert_same(y.compute(), reference(model_file, weights, x))


def test_a_module_and_a_model_whose_rows_change_rank():
    net = nnspec.load(CONVS, seed=2).train(False)
    x = numpy.random.default_rng(1).standard_normal((10, 1, 28, 28), dtype=numpy.float32)
    y = nnspec.dask.map_model(net, da.from_array(x, chunks=(4, 1, 28, 28)))
    assert y.shape == (10, 20, 20, 20) and y.chunks[0] == (4, 4, 2)
    with dask.config.set(scheduler="sync"):
        assert_same(y.compute(), nnspec.compile(net)(x))


def test_on_a_cluster_each_worker_builds_the_model_once(model):
    model_file, weights = model
    x = numpy.random.default_rng(2).standard_normal((2000, FEATURES), dtype=numpy.float32)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster, set_as_default=False) as client:
        y = nnspec.dask.map_model(model_file, da.from_array(x, chunks=100), weights=weights)
        out = client.compute(y).result()

        def loads() -> int:
            from nnspec.distributed import worker

            return worker.LOADS[0]

        built = client.run(loads)
    assert_same(out, reference(model_file, weights, x))
    assert sum(built.values()) <= 2 and all(n <= 1 for n in built.values())  # 20 chunks, one build per worker


def test_a_mismatch_is_found_before_anything_runs(model):
    model_file, _ = model
    with pytest.raises(nnspec.ShapeError) as e:
        nnspec.dask.map_model(model_file, da.zeros((10, FEATURES + 1), chunks=5))
    assert e.value.position.file == str(model_file) and e.value.position.line == 3
    with pytest.raises(PredictError, match="one output row per input row"):
        nnspec.dask.map_model(nnspec.loads("Flatten: [0]"), da.zeros((10, 4), chunks=5))
