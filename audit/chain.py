"""The audit trail's hash chain — pure functions, no Django.

Each entry stores the hash of the entry before it in its chain (one chain per organisation,
and one, ``global``, for what belongs to none) and its own hash over its content and that
previous hash. Editing, deleting or reordering any entry breaks the chain from there on;
:func:`verify` names the first entry where it breaks.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

GENESIS = "0" * 64
GLOBAL_CHAIN = "global"


def chain_of(organisation_id: int | None) -> str:
    return f"org:{organisation_id}" if organisation_id is not None else GLOBAL_CHAIN


def canonical(content: dict) -> bytes:
    """Sorted keys, no insignificant white space, UTF-8: the same bytes on every machine."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def entry_hash(content: dict, previous_hash: str) -> str:
    """SHA-256 over the entry's content (JSON types only) and the previous entry's hash."""
    return hashlib.sha256(canonical({"content": content, "previous": previous_hash})
                          ).hexdigest()


@dataclass(frozen=True)
class Stored:
    """One entry as stored: what the check reads back."""

    pk: int
    sequence: int
    previous_hash: str
    entry_hash: str
    content: dict


@dataclass(frozen=True)
class Break:
    pk: int | None
    sequence: int
    reason: str


def verify(entries: Iterable[Stored], *, head_sequence: int | None = None,
           head_hash: str | None = None) -> Break | None:
    """Walk one chain in sequence order; ``None`` if it is intact, else the first break.

    ``head_*`` is what the chain's head row says its last entry is: a deleted tail is caught
    there (nothing after it would notice).
    """
    expected_sequence, previous = 1, GENESIS
    for entry in entries:
        if entry.sequence != expected_sequence:
            return Break(entry.pk, entry.sequence,
                         f"sequence {entry.sequence} where {expected_sequence} was expected "
                         "(an entry was deleted or reordered)")
        if entry.previous_hash != previous:
            return Break(entry.pk, entry.sequence,
                         "its previous hash does not match the entry before it "
                         "(an entry was deleted, inserted or reordered)")
        if entry_hash(entry.content, entry.previous_hash) != entry.entry_hash:
            return Break(entry.pk, entry.sequence, "its content does not match its hash "
                                                   "(the entry was edited)")
        previous, expected_sequence = entry.entry_hash, expected_sequence + 1
    last = expected_sequence - 1
    if head_sequence is not None and (head_sequence != last
                                      or (last and head_hash != previous)):
        return Break(None, last + 1,
                     f"the chain ends at sequence {last} but its head says {head_sequence} "
                     "(entries at the end were deleted or the head was changed)")
    return None
