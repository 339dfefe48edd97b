"""Atomic file writes."""

import stat

import pytest

from discovery.files import atomic_write, atomic_write_text


def test_atomic_write_text_creates_and_replaces(tmp_path):
    path = tmp_path / "new" / "report.html"
    assert atomic_write_text(path, "first ü") == path
    atomic_write_text(path, "second")
    assert path.read_text(encoding="utf-8") == "second"
    assert list(path.parent.iterdir()) == [path]
    # readable by others (the lab reads proposal files), although mkstemp creates 0600
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_failing_writer_leaves_the_old_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text("old")

    def half_then_fail(tmp):
        tmp.write_text("half a fi")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, half_then_fail)
    assert path.read_text() == "old"
    assert list(tmp_path.iterdir()) == [path]


def test_the_writer_gets_a_temporary_file_in_the_target_folder(tmp_path):
    seen = []
    atomic_write(tmp_path / "a.csv", lambda tmp: (seen.append(tmp), tmp.write_text("x")))
    assert seen[0].parent == tmp_path and seen[0].name != "a.csv"
    assert not seen[0].exists()
