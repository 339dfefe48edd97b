"""One campaign command in its own process, with the fast collaborators of test_loop, for the tests
that need real processes (two commands at once, kill -9). Not a test module.

    python tests/lab_worker.py TMP LOOKUP run [override ...]    # python -m discovery.run, same exit codes
    python tests/lab_worker.py TMP LOOKUP ingest FILE           # Campaign.ingest alone, without the lock

Environment: PAUSE_MARKER=path makes an ingest touch the file and sleep PAUSE_SECONDS (default 60)
inside its write transaction, after its rows are written and before they commit; SLOW_FIT=seconds
makes every model fit take that long (a round that holds the campaign's lock).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from test_loop import Parts, Toy, _campaign, _config

from discovery import run as app
from discovery.campaign.labio import ResultsFileError
from discovery.campaign.lock import CampaignBusy
from discovery.campaign.settings import RunSettings
from discovery.campaign.store import CampaignStore


def _patch() -> None:
    marker = os.environ.get("PAUSE_MARKER")
    if marker:
        add = CampaignStore.add_measurements

        def paused(self, rows, db=None):
            stored = add(self, rows, db)
            if db is not None:
                Path(marker).touch()
                time.sleep(float(os.environ.get("PAUSE_SECONDS", "60")))
            return stored

        CampaignStore.add_measurements = paused
    slow = float(os.environ.get("SLOW_FIT", "0"))
    if slow:
        fit = Toy._fit

        def slow_fit(self, X, y, noise_sd):
            time.sleep(slow)
            fit(self, X, y, noise_sd)

        Toy._fit = slow_fit


def main() -> int:
    tmp, lookup, command, *args = sys.argv[1:]
    _patch()
    parts = Parts()
    if command == "ingest":
        campaign = _campaign(RunSettings.from_config(_config(Path(tmp), Path(lookup), "campaign.mode=propose")), parts)
        try:
            print(campaign.ingest(Path(args[0])).message(), flush=True)
        finally:
            campaign.close()
        return 0
    try:
        app.run(_config(Path(tmp), Path(lookup), "campaign.mode=propose", *args),
                open_campaign=lambda settings: _campaign(settings, parts))
    except ResultsFileError as exc:
        print(exc, file=sys.stderr)
        return 2
    except CampaignBusy as exc:
        print(exc, file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
