"""The package's SQLite connection and transaction."""

import pytest

from discovery.sqlite import connect, transaction


def test_connect_creates_the_folder_and_uses_wal(tmp_path):
    conn = connect(tmp_path / "sub" / "db.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    conn.close()


def test_a_transaction_commits_all_or_nothing(tmp_path):
    path = tmp_path / "db.sqlite"
    conn = connect(path)
    conn.execute("CREATE TABLE t (x INTEGER)")
    with transaction(conn) as db:
        db.executemany("INSERT INTO t VALUES (?)", [(1,), (2,)])
    with pytest.raises(RuntimeError), transaction(conn) as db:
        db.execute("INSERT INTO t VALUES (3)")
        raise RuntimeError("killed mid-step")
    assert not conn.in_transaction
    other = connect(path)  # another process sees exactly the committed rows
    assert [x for (x,) in other.execute("SELECT x FROM t ORDER BY x")] == [1, 2]
    other.close()
    conn.close()
