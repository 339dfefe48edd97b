"""`featurize`: SMILES / PSMILES in, a table of QM descriptors and chemical categories out."""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from discovery.chem import Molecule, MoleculeError, parse_molecules
from discovery.chem.molecule import STANDARDISATION_VERSION
from discovery.features.cache import CachedResult, DescriptorCache, MoleculeRecord
from discovery.features.categories import CATEGORY_NAMES, CATEGORY_VERSION, category_features
from discovery.features.derived import add_derived
from discovery.workers import TaskFailure, WorkerTask, run_isolated
from discovery.features.qm import DescriptorCalculator, QMError, descriptor_names
from discovery.features.settings import QMSettings

#: Row status values. Only "ok" rows carry descriptors; every other row says why in `error`.
STATUS_OK = "ok"
STATUS_INVALID = "invalid"  # the SMILES could not be used (parse / polymer rules)
STATUS_FAILED = "failed"  # QM failed after retries (deterministic; cached)
# "timeout", "crashed", "error" come from `TaskFailure.kind` (not cached: may be transient)

_MOLECULE_TOKEN = f"chem{STANDARDISATION_VERSION}-categories{CATEGORY_VERSION}"

META_COLUMNS = ("input", "smiles", "identity", "is_polymer")
STATUS_COLUMNS = ("status", "error", "note")


def default_cache_path() -> Path:
    """`$DISCOVERY_CACHE_DIR/descriptors.sqlite`, else `~/.cache/discovery/descriptors.sqlite`."""
    root = os.environ.get("DISCOVERY_CACHE_DIR") or Path.home() / ".cache" / "discovery"
    return Path(root) / "descriptors.sqlite"


def compute_descriptors(molecule: Molecule, qm: DescriptorCalculator | QMSettings) -> CachedResult:
    """QM descriptors of one molecule as a cacheable outcome (never raises on chemistry).

    `qm`: settings, or a `DescriptorCalculator` to reuse across molecules (it caches reference
    values such as methane's deprotonation energy).
    """
    calculator = DescriptorCalculator(qm) if isinstance(qm, QMSettings) else qm
    start = time.perf_counter()
    try:
        values, note = calculator.compute(molecule)
        return CachedResult(STATUS_OK, "", note, values, time.perf_counter() - start)
    except (QMError, MoleculeError) as exc:
        return CachedResult(STATUS_FAILED, exc.reason, "", {}, time.perf_counter() - start)


def qm_worker(config: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Worker-process entry (see `WorkerTask`): JSON molecule in, JSON `CachedResult` out."""
    calculator = DescriptorCalculator(QMSettings.from_dict(config))  # one per worker process
    return lambda item: dataclasses.asdict(compute_descriptors(Molecule(**item), calculator))


def _as_outcome(value: Any) -> CachedResult:
    if isinstance(value, TaskFailure):
        return CachedResult(value.kind, value.reason, "", {}, 0.0)
    if isinstance(value, dict):
        return CachedResult(**value)
    return value


def featurize(
    smiles: Sequence[str] | pd.Series,
    settings: QMSettings | str = "fast",
    *,
    cache: DescriptorCache | str | Path | None = "default",
    n_workers: int | None = None,
    dask_client: Any | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Compute GFN2-xTB descriptors and chemical categories.

    Args:
        smiles: SMILES of molecules and/or polymer repeat units (PSMILES with two `[*]` or `*`).
        settings: `QMSettings`, or a preset name ("fast", "full").
        cache: A `DescriptorCache`, a path to its SQLite file, "default" for
            `default_cache_path()`, or None for no cache.
        n_workers: Local worker processes; default all cores. Ignored with `dask_client`.
        dask_client: A `dask.distributed.Client` (or a scheduler address) to run the QM on a
            cluster instead of local processes.
        progress: Show a progress bar.

    Returns:
        DataFrame indexed like the input with columns `input, smiles, identity, is_polymer`,
        the descriptor columns (`descriptor_names(settings)`, then the physically derived
        `DERIVED_NAMES`; NaN unless status is "ok"), the
        category columns (`CATEGORY_NAMES`; -1 for invalid input), and `status, error, note`.
        `df.attrs["featurize"]` holds counts: cache hits, computed, failed, seconds.
    """
    started = time.perf_counter()
    if isinstance(settings, str):
        settings = QMSettings(preset=settings)
    index = smiles.index if isinstance(smiles, pd.Series) else pd.RangeIndex(len(smiles))
    texts = list(smiles)

    own_cache = False
    if isinstance(cache, str) and cache == "default":
        cache = default_cache_path()
    if isinstance(cache, (str, Path)):
        cache = DescriptorCache(cache)
        own_cache = True
    tokens = {polymer: settings.cache_token(polymer=polymer) for polymer in (False, True)}
    try:
        records = _parse(texts, cache)
        # One QM job per distinct molecule identity.
        unique: dict[str, Molecule] = {}
        for text in texts:
            record = records[_key(text)]
            if not record.error:
                unique.setdefault(record.identity, Molecule(text, record.smiles, record.identity, record.is_polymer))
        outcomes: dict[str, CachedResult] = {}
        if cache is not None:
            for polymer, token in tokens.items():
                outcomes.update(cache.get_descriptors([i for i, m in unique.items() if m.is_polymer == polymer], token))
        # Transient failures are never stored, so every hit is final.
        hits = len(outcomes)
        todo = [m for identity, m in unique.items() if identity not in outcomes]
        if todo:
            outcomes.update(_run_qm(todo, settings, cache, tokens, n_workers, dask_client, progress))
    finally:
        if own_cache and cache is not None:
            cache.close()

    names = descriptor_names(settings)
    invalid_categories = (-1,) * len(CATEGORY_NAMES)
    rows = []
    for text in texts:
        record = records[_key(text)]
        if record.error:
            rows.append((text, "", "", False, *[np.nan] * len(names), *invalid_categories, STATUS_INVALID, record.error, ""))
            continue
        outcome = outcomes[record.identity]
        ok = outcome.status == STATUS_OK
        values = [outcome.values.get(n, np.nan) if ok else np.nan for n in names]
        rows.append((text, record.smiles, record.identity, record.is_polymer, *values, *record.categories,
                     outcome.status, outcome.error, outcome.note))
    frame = pd.DataFrame.from_records(rows, index=index, columns=[*META_COLUMNS, *names, *CATEGORY_NAMES, *STATUS_COLUMNS])
    frame[list(CATEGORY_NAMES)] = frame[list(CATEGORY_NAMES)].astype("int8")
    frame = add_derived(frame)
    frame.attrs["featurize"] = {
        "molecules": len(texts),
        "unique": len(unique),
        "cache_hits": hits,
        "computed": len(unique) - hits,
        "ok": int((frame["status"] == STATUS_OK).sum()),
        "not_ok": int((frame["status"] != STATUS_OK).sum()),
        "seconds": time.perf_counter() - started,
    }
    return frame


def _key(text: Any) -> str:
    return text if isinstance(text, str) else repr(text)


def _parse(texts: list[Any], cache: DescriptorCache | None) -> dict[str, MoleculeRecord]:
    """Standardise and categorise each distinct input once; cached by input text."""
    distinct = list(dict.fromkeys(_key(t) for t in texts))
    originals = {_key(t): t for t in texts}
    records = cache.get_molecules(distinct, _MOLECULE_TOKEN) if cache else {}
    new = [k for k in distinct if k not in records]
    fresh: dict[str, MoleculeRecord] = {}
    for key, item in zip(new, parse_molecules([originals[k] for k in new]), strict=True):
        if isinstance(item, MoleculeError):
            fresh[key] = MoleculeRecord("", "", False, item.reason, ())
        else:
            categories = tuple(category_features(item).values())
            fresh[key] = MoleculeRecord(item.smiles, item.identity, item.is_polymer, "", categories)
    if cache is not None:
        cache.put_molecules((k, _MOLECULE_TOKEN, r) for k, r in fresh.items() if isinstance(originals[k], str))
    records.update(fresh)
    return records


def _run_qm(
    todo: list[Molecule],
    settings: QMSettings,
    cache: DescriptorCache | None,
    tokens: dict[bool, str],
    n_workers: int | None,
    dask_client: Any | None,
    progress: bool,
) -> dict[str, CachedResult]:
    bar = tqdm(total=len(todo), desc=f"GFN2-xTB ({settings.preset})", unit="mol", disable=not progress)

    def record(index: int, value: Any) -> None:
        outcome = _as_outcome(value)
        if cache is not None and outcome.status in (STATUS_OK, STATUS_FAILED):
            molecule = todo[index]
            cache.put_descriptors([(molecule.identity, tokens[molecule.is_polymer], molecule.smiles, outcome)])
        bar.update(1)

    try:
        if dask_client is not None:
            results = _run_on_dask(todo, settings, dask_client, record)
        else:
            task = WorkerTask(f"{__name__}:qm_worker", dataclasses.asdict(settings))
            results = run_isolated(
                task, [dataclasses.asdict(m) for m in todo],
                n_workers=n_workers or os.cpu_count() or 1, timeout_s=settings.timeout_s, on_result=record,
            )
    finally:
        bar.close()
    return {m.identity: _as_outcome(r) for m, r in zip(todo, results, strict=True)}


def _run_on_dask(todo: list[Molecule], settings: QMSettings, client: Any, record) -> list[Any]:
    """Same work on a Dask cluster.

    Dask cannot stop a running task, so the timeout is a batch budget: `timeout_s` times the
    number of molecules per worker thread; what is unfinished then is cancelled and recorded as
    "timeout". A worker that dies is retried by Dask and finally reported as "crashed".
    """
    from distributed import Client, as_completed

    if isinstance(client, str):
        client = Client(client)
    n_threads = max(1, sum(client.nthreads().values()))
    budget = settings.timeout_s * math.ceil(len(todo) / n_threads)
    futures = client.map(compute_descriptors, todo, qm=settings, pure=False)
    position = {f.key: i for i, f in enumerate(futures)}
    results: list[Any] = [None] * len(todo)
    try:
        for future in as_completed(futures, timeout=budget):
            i = position[future.key]
            try:
                results[i] = future.result()
            except Exception as exc:  # KilledWorker, cancellation, ...
                kind = "crashed" if type(exc).__name__ == "KilledWorker" else "error"
                results[i] = TaskFailure(kind, f"{type(exc).__name__}: {exc}")
            record(i, results[i])
    except TimeoutError:
        pass
    finally:
        for i, future in enumerate(futures):
            if results[i] is None:
                future.cancel()
                results[i] = TaskFailure("timeout", f"not finished within the Dask batch budget of {budget:g} s")
                record(i, results[i])
    return results
