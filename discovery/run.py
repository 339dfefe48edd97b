"""`python -m discovery.run campaign=NAME`: run a campaign round.

Until the closed loop lands (issue 5), a round featurises the campaign's measured molecules
(GFN2-xTB descriptors + chemical categories, cached) and writes `features.csv` to the
campaign's state folder, with a summary of what failed and why.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import hydra
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from discovery.features import QMSettings, featurize
from discovery.paths import resolve_input_file

log = logging.getLogger("discovery.run")


@dataclass(frozen=True)
class CampaignSpec:
    """The `campaign` config group, validated."""

    name: str
    seed_data: Path
    smiles_column: str
    target_column: str
    direction: str

    @classmethod
    def from_config(cls, cfg: DictConfig) -> CampaignSpec:
        data = OmegaConf.to_container(cfg, resolve=True)
        assert isinstance(data, dict)
        expected = {"name", "seed_data", "smiles_column", "target_column", "direction"}
        unknown = sorted(set(data) - expected)
        missing = sorted(expected - set(data))
        if unknown or missing:
            raise ValueError(f"campaign config: unknown keys {unknown}, missing keys {missing}")
        if data["direction"] not in ("max", "min"):
            raise ValueError(f"campaign.direction must be 'max' or 'min', got {data['direction']!r}")
        return cls(
            name=str(data["name"]),
            seed_data=resolve_input_file(str(data["seed_data"]), "campaign data file"),
            smiles_column=str(data["smiles_column"]),
            target_column=str(data["target_column"]),
            direction=str(data["direction"]),
        )


def run(cfg: DictConfig) -> Path:
    campaign = CampaignSpec.from_config(cfg.campaign)
    qm_values = OmegaConf.to_container(cfg.qm, resolve=True)
    assert isinstance(qm_values, dict)
    preset = qm_values.pop("preset", "fast")
    qm_values.setdefault("seed", int(cfg.seed))
    settings = QMSettings.preset_named(preset, **qm_values)

    data = pd.read_csv(campaign.seed_data)
    for column in (campaign.smiles_column, campaign.target_column):
        if column not in data.columns:
            raise ValueError(f"{campaign.seed_data} has no column {column!r} (columns: {list(data.columns)})")
    state = Path(cfg.state_dir) / campaign.name
    state.mkdir(parents=True, exist_ok=True)

    features = featurize(
        data[campaign.smiles_column], settings, cache=Path(cfg.cache_path),
        n_workers=cfg.n_workers, dask_client=cfg.dask_address, progress=bool(cfg.progress),
    )
    table = pd.concat([data, features.drop(columns=["input"])], axis=1)
    out = state / "features.csv"
    tmp = out.with_suffix(".csv.tmp")
    table.to_csv(tmp, index=False)
    tmp.replace(out)  # atomic: a killed run never leaves half a file

    stats = features.attrs["featurize"]
    print(
        f"campaign {campaign.name}: {stats['molecules']} molecules, {stats['ok']} featurised, "
        f"{stats['not_ok']} not ({stats['cache_hits']} cache hits, {stats['computed']} computed) "
        f"in {stats['seconds']:.1f} s -> {out}"
    )
    for _, row in features[features["status"] != "ok"].iterrows():
        print(f"  {row['status']}: {row['input']}: {row['error']}")
    return out


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    try:
        run(cfg)
    except (ValueError, FileNotFoundError) as exc:
        log.error("%s", exc)
        sys.exit(2)


if __name__ == "__main__":
    main()
