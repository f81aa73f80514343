"""The test-size demo, loaded once per test process and copied in for each test that asks.

Building the demo runs the real loader (people, mandates, plans through their flows, meetings):
about two seconds. Hundreds of tests start from it, so each test process builds it once per
moment (see below), keeps the rows the loader added, rolls the load back, and inserts those rows
again — a few milliseconds — for every test that requests the ``demo`` fixture.

What the copy must not change:

* **Time.** The demo's terms and deadlines are relative to the day it is loaded, and its
  timestamps must lie before anything the test then does (ordering by time). A snapshot is
  therefore built for one minute of the (possibly frozen) clock, with the clock sent back one
  minute while it loads, and used only by tests that ask within that minute.
* **Rows that were there first.** Copying reuses the loader's primary keys, so the copy is used
  only when every table holds exactly the rows it held when the snapshot was built (usually
  the migrations' content types and permissions, whose ids change when a committing test
  flushes the database); otherwise the loader runs as before.
* **After-commit work.** Tests that commit (``transactional_db``, the live server) run the
  loader itself, so whatever it schedules on commit happens as in production.
"""

import datetime

import time_machine
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from fixtures.demo import DemoSummary, load_demo

EXCLUDED_TABLES = frozenset({"django_migrations"})


class _Rollback(Exception):
    pass


class _Snapshot:
    def __init__(self, before: dict, rows: dict[str, tuple[list[str], list[tuple]]],
                 people: int):
        self.before = before  # what every table held before the loader ran (see _state)
        self.rows = rows  # table -> (columns, rows the loader added)
        self.people = people


class DemoSnapshots:
    def __init__(self):
        self._snapshots: dict[tuple, _Snapshot] = {}

    def load(self, **options) -> DemoSummary:
        now = timezone.now()
        minute = now.replace(second=0, microsecond=0)
        built_at = minute - datetime.timedelta(minutes=1)
        if timezone.localdate(built_at) != timezone.localdate(now):
            return load_demo(**options)  # the minute after midnight: no snapshot
        key = (connection.alias, connection.settings_dict["NAME"], minute,
               tuple(sorted(options.items())))
        snapshot = self._snapshots.get(key)
        if snapshot is None:
            tables = _tables()
            snapshot = self._snapshots[key] = self._build(
                tables, _state(tables), built_at, options)
        elif _state(list(snapshot.before)) != snapshot.before:
            return load_demo(**options)
        _restore(snapshot)
        return _summary(snapshot)

    @staticmethod
    def _build(tables, before, built_at, options) -> _Snapshot:
        try:
            with transaction.atomic(), time_machine.travel(built_at):
                summary = load_demo(**options)
                rows = {}
                for table in tables:
                    columns, current = _select(table)
                    there = before[table][1]
                    added = [r for r in current if r not in there]
                    if added:
                        rows[table] = (columns, added)
                snapshot = _Snapshot(before, rows, summary.people)
                raise _Rollback
        except _Rollback:
            return snapshot


def _tables() -> list[str]:
    return sorted(t for t in connection.introspection.table_names()
                  if t not in EXCLUDED_TABLES)


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _state(tables: list[str]) -> dict[str, tuple[int, frozenset]]:
    """Each table's row count (one query for all) and, where it has rows, the rows."""
    sql = " UNION ALL ".join(
        f"SELECT {i}, COUNT(*) FROM {_quote(t)}" for i, t in enumerate(tables))  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        counts = dict(cursor.fetchall())
    return {t: (counts[i], frozenset(_select(t)[1]) if counts[i] else frozenset())
            for i, t in enumerate(tables)}


def _select(table: str) -> tuple[list[str], list[tuple]]:
    """The table's rows as values the same database takes back as parameters."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {_quote(table)}")  # noqa: S608
        columns = [c[0] for c in cursor.description]
        return columns, [tuple(map(_parameter, r)) for r in cursor.fetchall()]


def _parameter(value):
    # SQLite's driver reads times back as datetime.time but takes no time as a parameter.
    if isinstance(value, datetime.time):
        return value.isoformat()
    return value


def _restore(snapshot: _Snapshot) -> None:
    from django.apps import apps

    with transaction.atomic(), connection.cursor() as cursor:
        for table, (columns, rows) in snapshot.rows.items():
            names = ", ".join(_quote(c) for c in columns)
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {_quote(table)} ({names}) VALUES ({marks})", rows)  # noqa: S608
        touched = [m for m in apps.get_models(include_auto_created=True)
                   if m._meta.db_table in snapshot.rows]
        for sql in connection.ops.sequence_reset_sql(no_style(), touched):
            cursor.execute(sql)


def _summary(snapshot: _Snapshot) -> DemoSummary:
    from fixtures.demo import DEMO_SLUG, OTHER_SLUG
    from governance.models import Organisation

    return DemoSummary(created=True, organisations=list(Organisation.objects.filter(
        slug__in=[DEMO_SLUG, OTHER_SLUG]).order_by("name")), people=snapshot.people)


SNAPSHOTS = DemoSnapshots()
