"""One run at a time per campaign: an exclusive lock on `<campaign>/campaign.lock`.

Two commands on one campaign at once (two ingests, or an ingest while a round runs) would each
decide from what the other has not yet written. The lock is `flock` on a file in the campaign
folder: the operating system releases it when its process ends, however it ends (kill -9
included), so a crashed run never leaves the campaign locked. The file also says who holds it,
for the message the second command gets.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class CampaignBusy(RuntimeError):
    """Another process holds the campaign's lock; nothing was done."""


@contextmanager
def campaign_lock(folder: Path, doing: str, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the campaign's lock for the block; waits up to `wait_s` seconds for another run to
    finish, then raises `CampaignBusy` naming it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "campaign.lock"
    with open(path, "a+", encoding="utf-8") as handle:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise CampaignBusy(_busy_message(folder, path)) from None
                time.sleep(0.2)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "doing": doing,
                                     "since": time.strftime("%Y-%m-%d %H:%M:%S")}))
            handle.flush()
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _busy_message(folder: Path, path: Path) -> str:
    try:
        holder = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        holder = {}
    who = (f" (process {holder.get('pid')} on {holder.get('host')}, {holder.get('doing')}, since {holder.get('since')})"
           if holder else "")
    return (f"campaign {folder.name} is in use by another run{who}; nothing was done. Run the command again when "
            "that one has finished.")
