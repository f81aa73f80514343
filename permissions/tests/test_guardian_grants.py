"""The matrix materialised as django-guardian grants to mandate groups, and its reconciliation."""

import io
import pathlib

import pytest
from django.core.management import call_command
from guardian.models import GroupObjectPermission, UserObjectPermission

from audit.models import AuditEntry
from governance.models import Department, Membership, Organisation
from permissions.matrix import DEPARTMENT_ACTIONS, EVERY_ROLE, MATRIX, Action, permission_name
from permissions.models import DepartmentGroupObjectPermission, MandateGroup
from permissions.selectors import departments_for, departments_granted

PERSONAS = ["sekretaer", "driftschef", "serviceleder", "fg-formand", "fg-medlem", "du-formand",
            "ob-formand", "ab-formand", "ab-medlem", "ab-anden", "anden-org"]


def reconcile_output(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("reconcile_permissions", *args, stdout=out)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


@pytest.mark.parametrize("username", PERSONAS)
def test_guardian_grants_give_exactly_the_dated_matrix(persona, username):
    user = persona(username)
    for action in DEPARTMENT_ACTIONS:
        from guardian.shortcuts import get_objects_for_user

        granted = set(get_objects_for_user(user, permission_name(action), Department,
                                           accept_global_perms=False, with_superuser=False))
        assert granted == set(departments_for(user=user, action=action)), action
        assert set(departments_granted(user=user, action=action)) == granted, action


def test_every_mandate_has_a_group_and_grants_are_only_in_the_direct_tables(demo):
    organisation = Organisation.objects.get(slug="soebredden")
    bodies = organisation.bodies.count()
    areas = organisation.operations_areas.count()
    roles = {role for where, role in EVERY_ROLE if where != "staff"}
    staff_roles = {role for where, role in EVERY_ROLE if where == "staff"}
    assert MandateGroup.objects.filter(organisation=organisation).count() == (
        bodies * len(roles) + (areas + 1) * len(staff_roles))
    assert DepartmentGroupObjectPermission.objects.exists()
    assert not GroupObjectPermission.objects.exists()
    assert not UserObjectPermission.objects.exists()  # never ad hoc to users


def test_a_demo_has_no_drift_and_a_dry_run_says_so(demo):
    code, out = reconcile_output("--dry-run")
    assert code == 0
    assert "0 grants missing, 0 grants not in the matrix, 0 members missing" in out


def test_reconcile_reports_and_repairs_every_kind_of_drift(persona):
    ab_formand, ab_anden = persona("ab-formand"), persona("ab-anden")
    board = ab_formand.memberships.get(role=Membership.Role.CHAIR).body
    chair_group = MandateGroup.objects.get(body=board, role="chair").group
    # A lost grant, a grant the matrix never gave, a lost member and a member without mandate.
    lost = DepartmentGroupObjectPermission.objects.filter(
        group=chair_group, permission__codename="follow_up_acknowledge").get()
    lost.delete()
    member_group = MandateGroup.objects.get(body=board, role="member").group
    stray_permission = lost.permission
    DepartmentGroupObjectPermission.objects.create(
        group=member_group, permission=stray_permission, content_object=board.department)
    chair_group.user_set.remove(ab_formand)
    chair_group.user_set.add(ab_anden)
    assert not departments_granted(user=ab_formand, action=Action.FOLLOW_UP_VIEW).exists()

    code, out = reconcile_output("--dry-run")
    assert code == 1
    assert "1 grants missing, 1 grants not in the matrix, 1 members missing, " \
           "1 members without the mandate" in out
    assert f"mandate:body:{board.pk}:chair follow_up_acknowledge" in out
    assert not departments_granted(user=ab_formand, action=Action.FOLLOW_UP_VIEW).exists()

    code, out = reconcile_output()
    assert code == 0 and "Drift repaired: 1 grants missing" in out
    assert list(chair_group.user_set.all()) == [ab_formand]
    assert set(departments_granted(user=ab_formand, action=Action.FOLLOW_UP_ACKNOWLEDGE)) == {
        board.department}
    assert not DepartmentGroupObjectPermission.objects.filter(
        group=member_group, permission=stray_permission).exists()
    assert AuditEntry.objects.filter(action="permissions.reconcile").count() == 1
    assert reconcile_output("--dry-run")[0] == 0


def test_an_unknown_organisation_is_a_clear_error(demo):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No organisation"):
        call_command("reconcile_permissions", "--organisation", "nope")


def test_a_new_department_gets_its_grants_in_its_own_transaction(persona):
    from governance import services as governance_services

    area = Organisation.objects.get(slug="soebredden").operations_areas.order_by("number").first()
    department = governance_services.department_create(
        actor=None, operations_area=area, number=999, name="Nyhaven", households=40)
    assert department in departments_granted(user=persona("serviceleder"),
                                             action=Action.FOLLOW_UP_PREPARE)
    assert department not in departments_granted(user=persona("ab-anden"),
                                                 action=Action.FOLLOW_UP_VIEW)
    assert reconcile_output("--dry-run")[0] == 0


def test_only_permissions_services_grants_or_revokes_a_guardian_permission():
    root = pathlib.Path(__file__).resolve().parents[2]
    callers = set()
    for path in root.rglob("*.py"):
        if any(part in {".venv", "var", "tests", "migrations"} for part in path.parts):
            continue
        text = path.read_text(encoding="utf-8")
        if any(name in text for name in ("assign_perm(", "remove_perm(",
                                         "GroupObjectPermission.objects.bulk_create",
                                         "GroupObjectPermission.objects.create",
                                         "groups.through", "user_set.add(")):
            callers.add(path.relative_to(root).as_posix())
    # The measurement command copies grants into guardian's generic table inside a
    # transaction it rolls back (docs/architecture.md).
    assert callers <= {"permissions/services.py",
                       "permissions/management/commands/measure_permission_storage.py"}
    assert "permissions/services.py" in callers
    readers = {path.relative_to(root).as_posix() for path in root.rglob("*.py")
               if not any(p in {".venv", "var", "tests", "migrations"} for p in path.parts)
               and "GroupObjectPermission.objects" in path.read_text(encoding="utf-8")}
    assert all(reader.startswith("permissions/") for reader in readers)


def test_every_department_action_is_granted_to_someone():
    assert all(MATRIX[action] for action in DEPARTMENT_ACTIONS)
