"""The split review on Dask: a local cluster of 2 processes, and a scheduler at an address."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from split_helpers import ROOT, assert_same

import planner
from planner import distributed
from planner.distributed import InMemoryNetwork, UnitFailure

pytest.importorskip("distributed")
from distributed import Client, LocalCluster  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


class _Flaky(InMemoryNetwork):
    """Fails the first read of each unit (a lost worker, a network glitch): a retry succeeds."""

    def __init__(self, network, marks: str) -> None:
        super().__init__(network)
        self.marks = marks

    def read(self, box):
        mark = Path(self.marks) / f"{box[0]:.0f}_{box[1]:.0f}"
        if not mark.exists():
            mark.touch()
            raise OSError("flaky read")
        return super().read(box)

    def __reduce__(self):
        return (_Flaky, (self.network, self.marks))


class _Broken(InMemoryNetwork):
    """The data of one unit is broken: reading its halo always fails."""

    def __init__(self, network, bad_x: float) -> None:
        super().__init__(network)
        self.bad_x = bad_x

    def read(self, box):
        if box[0] <= self.bad_x <= box[2]:
            raise ValueError("damaged tile")
        return super().read(box)

    def __reduce__(self):
        return (_Broken, (self.network, self.bad_x))


def test_local_cluster_equals_single(synth, client):
    args = (synth["network"], synth["facilities"], synth["residences"])
    single = planner.check(*args)
    split = distributed.check(*args, tile_m=800.0, client=client)
    assert_same(single, split)
    options = {"communities": synth["communities"], "allocation": "community"}
    assert_same(
        planner.check(*args, **options),
        distributed.check(*args, unit_level="subdistrict", client=client, **options),
    )


def test_demo_on_local_cluster(client):
    from split_helpers import read_review

    _, path, facilities, residences, options = read_review(
        ROOT / "data" / "haidian" / "review.toml"
    )
    network = planner.load_network(path)
    single = planner.check(network, facilities, residences, **options)
    split = distributed.check(
        network, facilities, residences, tile_m=400.0, client=client, **options
    )
    assert_same(single, split)


def test_failed_task_is_retried(synth, client, tmp_path):
    args = (synth["facilities"], synth["residences"])
    source = _Flaky(synth["network"], str(tmp_path))
    split = distributed.check(source, *args, tile_m=800.0, client=client, retries=1)
    assert_same(planner.check(synth["network"], *args), split)
    assert len(list(tmp_path.iterdir())) > 1  # every unit failed once


def test_broken_unit_fails_alone_with_its_name(synth, client):
    network = synth["network"]
    plan = distributed.plan_review(
        InMemoryNetwork(network), synth["facilities"], synth["residences"], tile_m=800.0
    )
    # a point inside the halo of one tile only: the middle of the first unit's box
    first = plan.units[0]
    bad_x = (first.box[0] + first.box[2]) / 2
    hit = [u.name for u in plan.units if u.halo(plan.halo_m)[0] <= bad_x <= u.halo(plan.halo_m)[2]]
    with pytest.raises(UnitFailure) as caught:
        distributed.check(
            _Broken(network, bad_x),
            synth["facilities"],
            synth["residences"],
            tile_m=800.0,
            client=client,
            retries=0,
        )
    failure = caught.value
    assert sorted(failure.failed) == sorted(hit)
    assert all("damaged tile" in m and name in m for name, m in failure.failed.items())
    assert len(failure.results) == len(plan.units) - len(hit) > 0
    assert first.name in str(failure)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_scheduler_address_end_to_end(synth, tmp_path):
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1, then ``planner check
    --scheduler`` (the CLI's settings, cluster and runner)."""
    from split_helpers import cli_settings

    from planner.cli._check import review_and_write
    from planner.cli._cluster import cluster_for

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    dask = [sys.executable, "-m", "dask"]  # the `dask` command of this interpreter
    procs = [
        subprocess.Popen(
            [
                *dask,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--dashboard-address",
                ":0",
                "--no-show",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        time.sleep(1.0)
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        *dask,
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--host",
                        "127.0.0.1",
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        with Client(address, timeout=30) as c:
            c.wait_for_workers(2, timeout=60)
        out = tmp_path / "out"
        config = cli_settings(config=synth["config"], scheduler=address, tile_m=800, out=out)
        with cluster_for(config) as client:
            result = review_and_write(config, client=client)
        single = planner.check(
            synth["network"],
            synth["facilities"],
            synth["residences"],
            inputs=result.summary["inputs"],
        )
        # the CLI's own addition to the summary
        single.summary["category_labels_unmapped"] = result.summary["category_labels_unmapped"]
        assert_same(single, result)
        assert set(result.summary["inputs"]) == {"network", "facilities", "residences"}
        assert (out / "summary.json").is_file() and (out / "residences.csv").is_file()
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
