"""Pure helpers for the annual cycle (no Django imports; tested on their own).

A plan revision is the plan's content as canonical JSON plus its SHA-256. Canonical means:
keys sorted, no insignificant white space, UTF-8, and only JSON types (decimals and dates are
turned into strings before they get here). The same content gives the same bytes and hash on
every database and every machine.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass


def canonical_json(content: dict) -> bytes:
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def content_hash(content: dict) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


def short_hash(sha256: str) -> str:
    """The first 10 hex digits: what people read aloud and compare on screen."""
    return sha256[:10]


@dataclass(frozen=True)
class Change:
    kind: str  # "added", "removed", "changed"
    path: str
    before: object = None
    after: object = None


def diff_content(before: dict, after: dict, path: str = "") -> list[Change]:
    """The changes between two content dicts, as readable paths ("initiatives[2].title").

    Lists of dicts with a ``key`` entry are matched by key, so reordering or inserting an
    initiative shows as one change, not a cascade.
    """
    changes: list[Change] = []
    for name in sorted(set(before) | set(after)):
        here = f"{path}.{name}" if path else name
        if name not in before:
            changes.append(Change("added", here, after=after[name]))
        elif name not in after:
            changes.append(Change("removed", here, before=before[name]))
        else:
            changes += _diff_value(before[name], after[name], here)
    return changes


def _keyed(items: Iterable) -> dict | None:
    items = list(items)
    if all(isinstance(item, dict) and "key" in item for item in items):
        keyed = {item["key"]: item for item in items}
        if len(keyed) == len(items):
            return keyed
    return None


def _diff_value(before, after, path: str) -> list[Change]:
    if isinstance(before, dict) and isinstance(after, dict):
        return diff_content(before, after, path)
    if isinstance(before, list) and isinstance(after, list):
        old, new = _keyed(before), _keyed(after)
        if old is not None and new is not None:
            changes: list[Change] = []
            for key in [k for k in old if k not in new]:
                changes.append(Change("removed", f"{path}[{key}]", before=old[key]))
            for key in new:
                if key not in old:
                    changes.append(Change("added", f"{path}[{key}]", after=new[key]))
                else:
                    changes += diff_content(old[key], new[key], f"{path}[{key}]")
            return changes
    if before != after:
        return [Change("changed", path, before=before, after=after)]
    return []
