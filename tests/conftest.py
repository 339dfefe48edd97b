import os

import pytest

# Tests run several worker processes on 2 cores: keep native libraries single-threaded.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def cache_path(tmp_path):
    return tmp_path / "descriptors.sqlite"
