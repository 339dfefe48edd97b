"""`python -m discovery.run campaign=NAME`: run a campaign.

    python -m discovery.run campaign=polymer_dielectric                    # propose the next round
    python -m discovery.run campaign=polymer_dielectric ingest=results.csv # store lab results, then propose
    python -m discovery.run campaign=polymer_dielectric ingest=results.csv confirm=true  # values checked by the lab
    python -m discovery.run campaign=polymer_dielectric audit=history.csv  # every stored record, then stop

Modes (`campaign.mode`): `propose` runs one round (ingest -> featurise -> fit -> pool -> acquire ->
proposals + report) and stops to wait for the lab; running it again before results arrive only
rewrites the outputs. `simulate` plays `campaign.rounds` rounds against `campaign.lookup`.
State lives in `${state_dir}/<campaign>/` (SQLite `state.sqlite`, `proposals/round_NNN.csv|xlsx`,
`report.html`, `fits/`); a killed run resumes where it stopped.

One run at a time per campaign (`campaign.lock`): a second command while one runs stops at once
with exit status 3 and a message naming the run in progress, before doing anything.

Exit status 2 with a one-line message naming the key for bad configuration, or naming the file
for bad input files.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from typing import Any

import hydra
from omegaconf import DictConfig

from discovery.campaign.labio import ResultsFileError
from discovery.campaign.lock import CampaignBusy, campaign_lock
from discovery.campaign.loop import Campaign, RoundSummary
from discovery.campaign.settings import CampaignMode, RunSettings
from discovery.config import run_app

log = logging.getLogger("discovery.run")


def run(cfg: DictConfig | Mapping[str, Any],
        open_campaign: Callable[[RunSettings], Campaign] = Campaign.open) -> RoundSummary | None:
    """Validate the config and run the campaign (built by `open_campaign`: tests pass fast
    collaborators); returns the last round's summary (None for an audit)."""
    settings = RunSettings.from_config(cfg)
    doing = ("audit" if settings.audit is not None else f"ingest {settings.ingest}" if settings.ingest is not None
             else f"{settings.campaign.mode} round")
    with campaign_lock(settings.campaign_dir, doing):
        return execute(open_campaign(settings), settings)


def execute(campaign: Campaign, settings: RunSettings) -> RoundSummary | None:
    """What one command does to a campaign (the caller holds its lock); closes the campaign."""
    try:
        if settings.audit is not None:
            path = campaign.write_audit(settings.audit)
            print(f"audit: {len(campaign.store.history())} record(s) written to {path}")
            return None
        campaign.import_seed_data()
        if settings.ingest is not None:
            print(campaign.ingest(settings.ingest, confirm=settings.confirm).message())
        if settings.campaign.mode is CampaignMode.SIMULATE:
            summaries = campaign.simulate()
            summary = summaries[-1] if summaries else campaign.latest_summary()
            metrics = campaign.write_backtest_metrics()
            print(summary.message(settings.campaign.target))
            print(f"  metrics:   {metrics}")
            return summary
        summary = campaign.propose()
        print(summary.message(settings.campaign.target))
        return summary
    finally:
        campaign.close()


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    try:
        run(cfg)
    except ResultsFileError as exc:
        log.error("results file rejected, nothing stored:\n%s", exc)
        sys.exit(2)
    except CampaignBusy as exc:
        log.error("%s", exc)
        sys.exit(3)
    except (ValueError, FileNotFoundError) as exc:
        log.error("%s", exc)
        sys.exit(2)


if __name__ == "__main__":
    run_app(main)
