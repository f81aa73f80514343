"""Audit entries in words: action labels, people by their current names, before → after,
states and dates as people read them."""

import pytest
from django.utils import translation

from audit.display import ACTION_LABELS, action_choices, action_label, entry_rows
from audit.models import AuditEntry
from audit.services import audit_record
from fixtures.demo import DEMO_SLUG
from governance.models import Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def record(actor, action: str, obj, summary: dict) -> AuditEntry:
    entry = audit_record(actor=actor, action=action, obj=obj,
                         organisation=Organisation.objects.get(slug=DEMO_SLUG),
                         summary=summary)
    return AuditEntry.objects.select_related("actor").get(pk=entry.pk)


def test_every_action_the_code_writes_has_a_label_and_a_filter_group():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    written = set()
    apps = [d for d in root.iterdir() if (d / "__init__.py").exists() and d.name != "tests"]
    for path in (p for app in apps for p in app.rglob("*.py")):
        if "tests" not in path.parts:
            written |= set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', path.read_text("utf-8")))
    written -= {"store_true"}
    assert len(written) > 40 and "membership.start" in written  # the scan found the services
    assert sorted(written - set(ACTION_LABELS)) == []
    grouped = {code for _group, options in action_choices() for code, _label in options}
    assert set(ACTION_LABELS) <= grouped


def test_an_unknown_action_reads_as_its_code():
    assert action_label("something.new") == "something.new"
    assert action_label("plan.publish") == "Plan published"


def test_people_in_a_summary_are_named_from_their_rows_at_display_time(persona):
    chair, member = persona("ab-formand"), persona("ab-medlem")
    entry = record(None, "task.reroute", chair, {"from": chair.pk, "to": member.pk})
    member.first_name = "Omdøbt"
    member.save(update_fields=["first_name"])
    row = entry_rows([entry])[0]
    assert row.summary == [("From", "Jonas Friis"), ("To", "Omdøbt Lykke")]
    assert row.actor == "Årshjul (automatic step)"
    assert row.object == "Person: Jonas Friis"


def test_before_and_after_dates_and_states_read_in_words(persona):
    secretary = persona("sekretaer")
    plan = Organisation.objects.get(slug=DEMO_SLUG).annual_plans.get(year=2027)
    ended = record(secretary, "membership.end", plan,
                   {"ends_on": {"before": None, "after": "2026-05-31"}})
    moved = record(secretary, "plan.return_to_draft", plan,
                   {"from": "operations_committee", "to": "draft", "reason": "",
                    "on_behalf_of": persona("du-formand").pk})
    ended_row, moved_row = entry_rows([ended, moved])
    assert ended_row.summary == [("Last day", "— → 31.05.2026")]
    assert moved_row.summary == [("From", "with the operations committee"),
                                 ("To", "draft"), ("On behalf of", "Poul Eskildsen")]
    assert moved_row.object_url == f"/plans/{plan.pk}/"


def test_a_person_who_is_gone_reads_by_id(persona):
    entry = record(None, "auth.login_failed", persona("ab-formand"), {"person": 987654,
                                                                     "known_user": False})
    row = entry_rows([entry])[0]
    assert row.summary == [("Person", "person #987654"), ("Known user name", "no")]
