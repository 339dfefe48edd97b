"""Two commands on one campaign at once, and kill -9 in the middle of a correction, with real
processes (tests/lab_worker.py: the campaign command with test_loop's fast collaborators) on a real
SQLite file."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from test_loop import Parts, _campaign, _settings, lookup  # noqa: F401 (lookup is a fixture)

from discovery.campaign.store import CampaignStore

WORKER = Path(__file__).with_name("lab_worker.py")


def start(tmp_path, lookup, *args, **env) -> subprocess.Popen:  # noqa: F811
    environment = {**os.environ, "OMP_NUM_THREADS": "1", **{k: str(v) for k, v in env.items()}}
    return subprocess.Popen([sys.executable, str(WORKER), str(tmp_path), str(lookup), *args], env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> tuple[int, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, out + err


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() or path.stat().st_size == 0 and path.suffix == ".lock":
        assert process.poll() is None, finish(process)[1][-3000:]
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.fixture()
def waiting(tmp_path, lookup):  # noqa: F811
    """A campaign whose round 1 waits for the lab, and the lab's results for it."""
    campaign = _campaign(_settings(tmp_path, lookup, "campaign.mode=propose"), Parts())
    campaign.import_seed_data()
    campaign.propose()
    proposals = campaign.store.proposals(1)
    path = tmp_path / "results.csv"
    pd.DataFrame({"candidate_id": proposals["candidate_id"], "value": [1.5, 2.5, 0.5, 3.0]}).to_csv(path, index=False)
    folder = campaign.folder
    campaign.close()
    return folder, path


def records(folder: Path) -> pd.DataFrame:
    with CampaignStore(folder / "state.sqlite") as store:
        return store.history()


def test_a_second_command_while_a_round_runs_stops_at_once_and_nothing_is_lost_or_doubled(tmp_path, lookup, waiting):  # noqa: F811
    folder, results = waiting
    before = len(records(folder))
    first = start(tmp_path, lookup, "run", f"ingest={results}", SLOW_FIT=15)  # ingests, then fits round 2 slowly
    wait_for(folder / "campaign.lock", first)
    busy = start(tmp_path, lookup, "run", f"ingest={results}")
    status, message = finish(busy)
    assert status == 3, message[-3000:]
    assert f"campaign {folder.name} is in use by another run (process {first.pid}" in message
    assert "nothing was done" in message
    status, message = finish(first)
    assert status == 0 and "4 new measurement(s)" in message, message[-3000:]
    assert len(records(folder)) == before + 4
    # the lock went with its process: the same command now runs, and finds the rows stored
    status, message = finish(start(tmp_path, lookup, "run", f"ingest={results}"))
    assert status == 0 and "0 new measurement(s)" in message and "4 row(s) already stored" in message, message
    assert len(records(folder)) == before + 4


def test_two_ingests_at_once_without_the_lock_store_each_row_once(tmp_path, lookup, waiting):  # noqa: F811
    """Even without the command's lock, an ingest checks the file against the records inside its
    write transaction: the second waits for the first to commit, then finds its rows stored."""
    folder, results = waiting
    before = len(records(folder))
    marker = tmp_path / "first_is_writing"
    first = start(tmp_path, lookup, "ingest", str(results), PAUSE_MARKER=marker, PAUSE_SECONDS=3)
    wait_for(marker, first)
    second = start(tmp_path, lookup, "ingest", str(results))
    outputs = [finish(first), finish(second)]
    assert [status for status, _ in outputs] == [0, 0], outputs
    assert "4 new measurement(s)" in outputs[0][1] and "0 new measurement(s)" in outputs[1][1], outputs
    assert "4 row(s) already stored" in outputs[1][1]
    history = records(folder)
    assert len(history) == before + 4 and not history.duplicated(["candidate_id", "value"]).any()


def current_of(folder: Path, candidate_id: str) -> pd.DataFrame:
    history = records(folder)
    return history[(history["candidate_id"] == candidate_id) & history["current"]]


def test_kill_9_during_a_correction_leaves_the_old_value_or_the_new_never_both_or_neither(tmp_path, lookup, waiting):  # noqa: F811
    folder, results = waiting
    assert finish(start(tmp_path, lookup, "ingest", str(results)))[0] == 0
    candidate = pd.read_csv(results)["candidate_id"][0]
    n = len(records(folder))

    def correction(value: float) -> Path:
        path = tmp_path / f"fix_{value}.csv"
        pd.DataFrame({"candidate_id": [candidate], "value": [value], "action": ["correct"],
                      "reason": [f"typo, {value} is right"]}).to_csv(path, index=False)
        return path

    # killed inside the write transaction, its record written but not committed: the old value
    marker = tmp_path / "writing"
    process = start(tmp_path, lookup, "ingest", str(correction(2.0)), PAUSE_MARKER=marker)
    wait_for(marker, process)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    [current] = current_of(folder, candidate)["value"].tolist()
    assert current == 1.5 and len(records(folder)) == n

    # the same correction again: the new value, once
    assert finish(start(tmp_path, lookup, "ingest", str(correction(2.0))))[0] == 0
    assert current_of(folder, candidate)["value"].tolist() == [2.0] and len(records(folder)) == n + 1

    # the whole command killed at random moments: always exactly one current value, the old or
    # the new, and the lock never outlives its process
    rng = random.Random(0)
    expected = 2.0
    for value in (3.0, 4.0, 5.0, 6.0):
        process = start(tmp_path, lookup, "run", f"ingest={correction(value)}")
        time.sleep(rng.uniform(0.5, 6.0))
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        [now] = current_of(folder, candidate)["value"].tolist()
        assert now in (expected, value)
        expected = now
    with sqlite3.connect(folder / "state.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    status, message = finish(start(tmp_path, lookup, "run", f"ingest={correction(7.0)}"))
    assert status == 0, message[-3000:]
    assert current_of(folder, candidate)["value"].tolist() == [7.0]
