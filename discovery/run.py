"""`python -m discovery.run campaign=NAME`: run a campaign.

    python -m discovery.run campaign=polymer_dielectric                    # propose the next round
    python -m discovery.run campaign=polymer_dielectric ingest=results.csv # store lab results, then propose

Modes (`campaign.mode`): `propose` runs one round (ingest -> featurise -> fit -> pool -> acquire ->
proposals + report) and stops to wait for the lab; running it again before results arrive only
rewrites the outputs. `simulate` plays `campaign.rounds` rounds against `campaign.lookup`.
State lives in `${state_dir}/<campaign>/` (SQLite `state.sqlite`, `proposals/round_NNN.csv|xlsx`,
`report.html`, `fits/`); a killed run resumes where it stopped.

Exit status 2 with a one-line message naming the key for bad configuration, or naming the file
for bad input files.
"""

from __future__ import annotations

import logging
import sys

import hydra
from omegaconf import DictConfig

from discovery.campaign.labio import ResultsFileError
from discovery.campaign.loop import Campaign, RoundSummary
from discovery.campaign.settings import CampaignMode, RunSettings
from discovery.config import run_app

log = logging.getLogger("discovery.run")


def run(cfg: DictConfig) -> RoundSummary:
    """Validate the config and run the campaign; returns the last round's summary."""
    settings = RunSettings.from_config(cfg)
    campaign = Campaign.open(settings)
    try:
        campaign.import_seed_data()
        if settings.ingest is not None:
            stored = campaign.ingest(settings.ingest)
            print(f"ingested {settings.ingest}: {stored} new measurement(s)")
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
    except (ValueError, FileNotFoundError) as exc:
        log.error("%s", exc)
        sys.exit(2)


if __name__ == "__main__":
    run_app(main)
