"""Every kind of event issue 7 names is in the audit trail, in the right organisation's chain,
with the actor and the object: permission grants and revokes, mandate-group changes,
delegations, exports of lists, and changes made in Django's admin.

Time is frozen on 02.03.2026 before the demo loads.
"""

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEntry
from fixtures.demo import DEMO_SLUG
from governance import services as governance_services
from governance.models import Body, Department, Membership, OperationsArea, Organisation
from notifications.models import ReminderPolicy
from permissions import services as permission_services
from permissions.matrix import Action
from permissions.models import MandateGroup
from tests.clock import frozen_before_demo
from tests.pages import as_, english_pages

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 2)
_frozen_today = frozen_before_demo(TODAY)
_english = english_pages()


def organisation() -> Organisation:
    return Organisation.objects.get(slug=DEMO_SLUG)


def chain() -> str:
    return f"org:{organisation().pk}"


def last(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).latest("pk")


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


# --- permissions ------------------------------------------------------------------------

def test_a_grant_and_a_revoke_outside_the_matrix_are_recorded(persona):
    admin, department = persona("admin"), Department.objects.filter(
        organisation=organisation()).first()
    group = MandateGroup.objects.filter(organisation=organisation()).first().group
    permission_services.grant(actor=admin, action=Action.FOLLOW_UP_CLOSE, group=group,
                              obj=department)
    permission_services.revoke(actor=admin, action=Action.FOLLOW_UP_CLOSE, group=group,
                               obj=department)
    granted, revoked = last("permissions.grant"), last("permissions.revoke")
    for entry in (granted, revoked):
        assert (entry.actor, entry.chain) == (admin, chain())
        assert (entry.object_type, entry.object_id) == ("governance.department",
                                                        str(department.pk))
        assert entry.summary == {"group": group.pk, "permission": "follow_up_close",
                                 "on": "department"}
    assert granted.sequence < revoked.sequence


def test_a_new_departments_grants_are_recorded_in_its_organisations_chain(persona):
    area = OperationsArea.objects.filter(organisation=organisation()).first()
    department = governance_services.department_create(
        actor=persona("admin"), operations_area=area, number=999, name="Nyvej",
        households=40)
    entry = last("permissions.grants_update")
    assert (entry.chain, entry.object_id) == (chain(), str(department.pk))
    assert entry.summary["grants_added"] > 0 and entry.summary["grants_removed"] == 0
    group_name, codename, where, object_id = entry.summary["granted"][0]
    assert group_name.startswith("mandate:") and where in ("department", "organisation")


def test_reconcile_records_what_it_repaired_in_one_entry(demo):
    from permissions.models import DepartmentGroupObjectPermission

    grant = DepartmentGroupObjectPermission.objects.filter(
        content_object__organisation=organisation()).first()
    lost = DepartmentGroupObjectPermission.objects.filter(group=grant.group).delete()[0]
    before = AuditEntry.objects.count()
    call_command("reconcile_permissions", "--organisation", DEMO_SLUG, stdout=io.StringIO())
    entry = last("permissions.reconcile")
    assert (entry.chain, entry.actor) == (chain(), None)
    assert entry.summary["grants_added"] == lost > 0
    assert AuditEntry.objects.count() == before + 1  # not a second entry for the same grants


def test_a_new_term_puts_the_person_in_groups_recorded_in_the_organisations_chain(persona):
    person = persona("anden-org")  # a person of the other organisation, new here
    body = Body.objects.get(organisation=organisation(), kind="organisation_board")
    governance_services.membership_start(actor=persona("admin"), person=person, body=body,
                                         role=Membership.Role.MEMBER, starts_on=TODAY)
    entry = last("permissions.groups_sync")
    assert entry.chain == chain()
    assert (entry.object_type, entry.object_id) == ("governance.person", str(person.pk))
    assert entry.summary["added"] == [f"mandate:body:{body.pk}:member"]
    assert entry.summary["removed"] == []


def test_a_delegation_and_its_cancellation_are_recorded(persona):
    from workflows.services import delegation_cancel, delegation_create

    chair, member = persona("ab-formand"), persona("ab-medlem")
    delegation = delegation_create(actor=chair, person=chair, substitute=member,
                                   organisation_id=organisation().pk, starts_on=TODAY,
                                   ends_on=TODAY + datetime.timedelta(days=7))
    delegation_cancel(actor=persona("sekretaer"), delegation=delegation)
    created, cancelled = last("delegation.create"), last("delegation.cancel")
    assert (created.actor, created.chain, created.object_id) == (chair, chain(),
                                                                 str(delegation.pk))
    assert created.summary["substitute"] == member.pk
    assert (cancelled.actor, cancelled.chain) == (persona("sekretaer"), chain())
    # The substitute's groups moved with it, in the same chain.
    synced = AuditEntry.objects.filter(action="permissions.groups_sync",
                                       object_id=str(member.pk))
    assert synced.count() == 2 and {e.chain for e in synced} == {chain()}


# --- exports ----------------------------------------------------------------------------

def test_the_task_list_download_is_recorded_per_organisation(client, persona):
    response = as_(client, persona, "sekretaer").get(reverse("home"),
                                                     {"view": "mine", "export": "csv"})
    assert response.status_code == 200
    rows = len(csv_rows(response)) - 1
    entry = last("export.tasks")
    assert (entry.actor, entry.chain) == (persona("sekretaer"), chain())
    assert entry.summary == {"format": "csv", "filters": {"view": "mine"}, "rows": rows}
    assert rows > 0


def test_an_empty_download_is_recorded_once_in_the_global_chain(client, persona):
    as_(client, persona, "ab-medlem").get(reverse("home"), {"view": "done", "export": "xlsx"})
    entry = last("export.tasks")
    assert (entry.chain, entry.summary["rows"]) == ("global", 0)
    assert (entry.object_type, entry.object_id) == ("governance.person",
                                                    str(persona("ab-medlem").pk))


def test_the_follow_up_list_download_is_recorded_with_its_filters(client, persona):
    response = as_(client, persona, "sekretaer").get(
        reverse("cycles:follow_up_list"), {"half": "H2", "export": "xlsx"})
    assert response.status_code == 200
    entry = last("export.follow_ups")
    assert (entry.actor, entry.chain, entry.object_type) == (
        persona("sekretaer"), chain(), "governance.organisation")
    assert entry.summary["filters"] == {"half": "H2"} and entry.summary["format"] == "xlsx"
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(response.content)).active
    assert entry.summary["rows"] == sheet.max_row - 1 > 0


def test_the_dashboard_download_is_recorded_on_its_plan(client, persona):
    response = as_(client, persona, "ob-formand").get(reverse("cycles:dashboard"),
                                                      {"export": "csv"})
    assert response.status_code == 200
    entry = last("export.dashboard")
    plan = organisation().annual_plans.get(year=2026)  # this year's plan, the default
    assert (entry.actor, entry.chain, entry.object_type, entry.object_id) == (
        persona("ob-formand"), chain(), "cycles.annualplan", str(plan.pk))
    assert entry.summary["rows"] == len(csv_rows(response)) - 1 > 0


# --- Django's admin ---------------------------------------------------------------------

POLICY = {"step": "", "on_assignment": "on", "days_before": "7,2", "on_due_day": "on",
          "overdue_every_business_days": "3", "escalate_after_business_days": "3"}


def test_an_addition_and_a_change_in_the_admin_are_recorded(client, persona):
    admin = persona("admin")
    client.force_login(admin)
    response = client.post(reverse("admin:notifications_reminderpolicy_add"),
                           {**POLICY, "organisation": organisation().pk})
    assert response.status_code == 302
    policy = ReminderPolicy.objects.get(organisation=organisation(), step="")
    response = client.post(
        reverse("admin:notifications_reminderpolicy_change", args=[policy.pk]),
        {**POLICY, "organisation": organisation().pk, "days_before": "5"})
    assert response.status_code == 302
    added, changed = last("admin.addition"), last("admin.change")
    for entry in (added, changed):
        assert (entry.actor, entry.chain) == (admin, chain())
        assert (entry.object_type, entry.object_id) == ("notifications.reminderpolicy",
                                                        str(policy.pk))
    assert changed.summary["change"] == [{"changed": {"fields": ["Days before"]}}]
    assert "7,2" not in str(changed.summary)  # which fields, never their values


def test_deleting_several_objects_in_the_admin_records_each(client, persona):
    policies = [ReminderPolicy.objects.create(organisation=organisation(), step=step)
                for step in ("", "follow_up")]
    client.force_login(persona("admin"))
    response = client.post(reverse("admin:notifications_reminderpolicy_changelist"), {
        "action": "delete_selected", "_selected_action": [p.pk for p in policies],
        "post": "yes"})
    assert response.status_code == 302
    assert not ReminderPolicy.objects.filter(pk__in=[p.pk for p in policies]).exists()
    deleted = AuditEntry.objects.filter(action="admin.deletion").order_by("pk")
    assert [(e.object_id, e.chain) for e in deleted] == [(str(p.pk), chain())
                                                         for p in policies]
    assert {e.actor for e in deleted} == {persona("admin")}


def test_deleting_one_object_in_the_admin_is_recorded_once(client, persona):
    policy = ReminderPolicy.objects.create(organisation=organisation(), step="")
    client.force_login(persona("admin"))
    response = client.post(reverse("admin:notifications_reminderpolicy_delete",
                                   args=[policy.pk]), {"post": "yes"})
    assert response.status_code == 302
    deleted = AuditEntry.objects.get(action="admin.deletion")
    assert (deleted.object_id, deleted.chain) == (str(policy.pk), chain())


def test_admin_entries_read_in_words_on_the_trail(client, persona):
    from audit.display import entry_rows

    policy = ReminderPolicy.objects.create(organisation=organisation(), step="")
    client.force_login(persona("admin"))
    client.post(reverse("admin:notifications_reminderpolicy_change", args=[policy.pk]),
                {**POLICY, "organisation": organisation().pk, "days_before": "5"})
    row = entry_rows([last("admin.change")])[0]
    assert row.action == "Changed in the administration"
    assert row.summary == [("Change", "Changed Days before.")]
    assert row.actor == "Demo Administrator"


def test_a_group_change_in_the_admin_is_recorded_in_the_global_chain(client, persona):
    group = Group.objects.create(name="test-group")
    client.force_login(persona("admin"))
    response = client.post(reverse("admin:auth_group_change", args=[group.pk]),
                           {"name": "renamed", "permissions": []})
    assert response.status_code == 302
    entry = last("admin.change")
    assert (entry.chain, entry.object_type, entry.object_id) == ("global", "auth.group",
                                                                 str(group.pk))
