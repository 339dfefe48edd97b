"""A proposed candidate and the protocol by which generators hand candidates to the pool."""

from __future__ import annotations

from collections.abc import Generator
from typing import NamedTuple


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
