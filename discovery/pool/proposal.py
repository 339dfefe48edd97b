"""A proposed candidate and the protocol by which generators hand candidates to the pool."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from discovery.chem import Molecule


class Proposal(NamedTuple):
    """One raw candidate from a generator.

    Attributes:
        smiles: SMILES or PSMILES as generated (not yet standardised or filtered).
        origin: Generator name: "mutation", "brics", "library" or "selfies".
        parent: Canonical SMILES of the seed it came from; seeds joined by "." when several
            contributed (BRICS); "" for library entries.
    """

    smiles: str
    origin: str
    parent: str


#: A generator yields proposals; the pool sends back the standardised SMILES of an accepted
#: candidate or None when it was rejected, so a generator can grow from accepted candidates.
Proposer = Generator[Proposal, "str | None", None]


def evolve(
    seeds: Sequence[Molecule],
    origin: str,
    generations: int,
    children_per_parent: int,
    attempts_per_child: int,
    mutator_for: Callable[[str], Callable[[], str | None] | None],
    failures: dict[str, int],
) -> Proposer:
    """Propose children generation by generation; accepted children are the next parents.

    Each parent gets up to `children_per_parent` distinct children from at most
    `attempts_per_child` times as many attempts. `parent` of every proposal is the seed the line
    started from.

    Args:
        seeds: Standardised seed molecules.
        origin: Generator name given to the proposals and used as the failure key.
        generations, children_per_parent, attempts_per_child: See above.
        mutator_for: Given a parent's SMILES, a function that returns one child SMILES per call
            (None when an attempt gave no valid structure), or None if the parent cannot be used.
        failures: Counter, updated in place, of attempts (and parents) that gave nothing valid.
    """
    parents = [(seed.smiles, seed.smiles) for seed in seeds]
    for _ in range(generations):
        next_parents: list[tuple[str, str]] = []
        for smiles, root in parents:
            mutate = mutator_for(smiles)
            if mutate is None:
                failures[origin] = failures.get(origin, 0) + 1
                continue
            children: set[str] = {smiles}
            for _ in range(attempts_per_child * children_per_parent):
                if len(children) > children_per_parent:
                    break
                child = mutate()
                if child is None:
                    failures[origin] = failures.get(origin, 0) + 1
                    continue
                if child in children:
                    continue
                children.add(child)
                accepted = yield Proposal(child, origin, root)
                if accepted is not None:
                    next_parents.append((accepted, root))
        parents = next_parents
