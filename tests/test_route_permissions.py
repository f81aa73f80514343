"""The exhaustive route test: every URL pattern × every persona × own department / another
department / another organisation → the answer the permission matrix predicts.

The guards are declared in permissions/routes.py; the expected answers are computed here from
permissions/matrix.py and the persona's roles on the day. A URL pattern without a guard fails
the first test, so a new route cannot ship unclassified.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cycles import services as cycle_services
from cycles.models import AnnualPlan, BoardRemark, FollowUp, Initiative, RolloutPlan
from fixtures.demo import DEMO_SLUG, OTHER_SLUG
from governance.models import Department, Membership, Organisation
from governance.selectors import body_chair_on
from permissions.matrix import MATRIX, Action
from permissions.routes import (
    DEPARTMENT_TARGETS,
    VIEW_ACTION,
    Access,
    Guard,
    Target,
    guard_for,
)
from permissions.selectors import roles_in_department, roles_in_organisation

PERSONAS = ["sekretaer", "driftschef", "serviceleder", "fg-formand", "fg-medlem", "du-formand",
            "ob-formand", "ab-formand", "ab-medlem", "ab-anden", "anden-org"]


def url_patterns(patterns=None, namespace=None):
    """(name, namespace, view module, parameter names) for every pattern of the project."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            yield from url_patterns(
                pattern.url_patterns,
                f"{namespace}:{inner}" if namespace and inner else inner or namespace)
        elif isinstance(pattern, URLPattern):
            callback = pattern.callback
            module = getattr(callback, "__module__", "")
            view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
            if view_class is not None:
                module = view_class.__module__
            yield (pattern.name, namespace, module, tuple(pattern.pattern.regex.groupindex))


def guarded_routes() -> dict[str, tuple[Guard, tuple[str, ...]]]:
    """Full URL name → (guard, parameters) for the routes a persona can be checked against."""
    routes = {}
    for name, namespace, module, params in url_patterns():
        guard = guard_for(name, namespace, module)
        if name is None or guard is None or guard.access in (Access.ADMIN, Access.PUBLIC):
            continue
        full = f"{namespace}:{name}" if namespace else name
        if "format" in params:
            continue  # the same view with a format suffix
        routes.setdefault(full, (guard, params))
    return routes


def test_every_url_pattern_has_a_guard():
    unguarded = sorted(
        f"{namespace + ':' if namespace else ''}{name} ({module})"
        for name, namespace, module, _params in url_patterns()
        if guard_for(name, namespace, module) is None)
    assert unguarded == [], "add these to permissions/routes.py"


def test_no_viewflow_view_is_mounted():
    mounted = {module for _n, _ns, module, _p in url_patterns() if module.startswith("viewflow")}
    assert mounted == set()


def test_every_guarded_object_route_names_a_matrix_action():
    for guard, _params in guarded_routes().values():
        if guard.access == Access.OBJECT:
            assert guard.target in VIEW_ACTION
            assert all(action in MATRIX for action in guard.actions)


# --- the targets ------------------------------------------------------------------------------

def other_organisation_plan() -> AnnualPlan:
    """A published plan of the other organisation, rolled out to its departments."""
    from workflows.services import roll_out

    other = Organisation.objects.get(slug=OTHER_SLUG)
    plan = cycle_services.plan_create(actor=None, organisation=other, year=2026,
                                      title="Årsplan 2026 (Havnely)")
    first, *others = plan.programme.themes.order_by("number")
    cycle_services.initiative_create(actor=None, plan=plan, theme=first, title="Energimåling",
                                     scope=Initiative.Scope.ORGANISATION)
    for theme in others:
        cycle_services.theme_justification_set(actor=None, plan=plan, theme=theme,
                                               text="Ikke i år.")
    cycle_services.plan_submit(actor=None, plan=plan)  # its first revision
    AnnualPlan.objects.filter(pk=plan.pk).update(state=AnnualPlan.State.PUBLISHED)
    roll_out(plan=plan)
    return AnnualPlan.objects.get(pk=plan.pk)


def meeting_targets(organisations: dict) -> list[tuple[str, object]]:
    """An upcoming meeting of each organisation's board (the calendar's objects)."""
    import datetime

    from django.utils import timezone

    from cycles.meeting_services import meeting_create

    day = timezone.localdate() + datetime.timedelta(days=30)
    return [(label, meeting_create(actor=None, date=day,
                                   body=organisation.bodies.get(kind="organisation_board")))
            for label, organisation in organisations.items()]


@pytest.fixture
def targets(demo) -> dict[Target, list[tuple[str, object]]]:
    """Per kind of object: one in department A (area 1, ab-formand's board), one in
    department B (area 2, ab-anden's board) and one in the other organisation."""
    own_org = Organisation.objects.get(slug=DEMO_SLUG)
    other_plan = other_organisation_plan()
    plan = AnnualPlan.objects.get(organisation=own_org, year=2026)
    departments = {
        "A": Department.objects.get(organisation=own_org, board__memberships__person__username=
                                    "ab-formand"),
        "B": Department.objects.get(organisation=own_org, board__memberships__person__username=
                                    "ab-anden"),
        "other organisation": Department.objects.filter(
            organisation=other_plan.organisation).order_by("number").first(),
    }
    plans = {"A": plan, "B": plan, "other organisation": other_plan}
    cases, rollouts = [], []
    for label, department in departments.items():
        case = FollowUp.objects.get(plan=plans[label], department=department, half="H2")
        BoardRemark.objects.create(follow_up=case, author=body_chair_on(body=department.board)
                                   or Membership.objects.filter(body=department.board)
                                   .first().person, text="Spørgsmål", created_at=case.created_at)
        cases.append((label, case))
        rollouts.append((label, RolloutPlan.objects.get(plan=plans[label],
                                                        department=department)))
    tasks, delegations, saved_filters = rule_targets(cases)
    organisation_level = {"own organisation": own_org,
                          "other organisation": other_plan.organisation}
    return {
        Target.FOLLOW_UP: cases,
        Target.ROLLOUT: rollouts,
        Target.PLAN: [("own organisation", plan), ("other organisation", other_plan)],
        Target.INITIATIVE: [(label, p.initiatives.order_by("position").first())
                            for label, p in (("own organisation", plan),
                                             ("other organisation", other_plan))],
        Target.ORGANISATION: list(organisation_level.items()),
        Target.OPERATIONS_AREA: [(label, o.operations_areas.order_by("number").first())
                                 for label, o in organisation_level.items()],
        Target.DEPARTMENT: [("A", departments["A"]),
                            ("other organisation", departments["other organisation"])],
        Target.BODY: [("board of A", departments["A"].board),
                      ("organisation board", own_org.bodies.get(kind="organisation_board")),
                      ("other organisation", departments["other organisation"].board)],
        Target.TASK: tasks,
        Target.DELEGATION: delegations,
        Target.SAVED_FILTER: saved_filters,
        Target.MEETING: meeting_targets(organisation_level),
        Target.CALENDAR_FEED: calendar_feeds(),
        Target.PERSON: people(),
        Target.MEMBERSHIP: [(label, Membership.objects.filter(body=d.board).first())
                            for label, d in (("A", departments["A"]),
                                             ("other organisation",
                                              departments["other organisation"]))],
    }


def rule_targets(cases):
    """Tasks (one routed to area 1's staff, one released to area 2's queue, one of the other
    organisation), a delegation per organisation, a saved filter per organisation's person."""
    import datetime

    from django.utils import timezone

    from governance.models import Person
    from workflows.models import Delegation, SavedTaskFilter
    from workflows.services import open_follow_up_tasks, task_release

    by_label = dict(cases)
    tasks = []
    for label, case in by_label.items():
        task = list(open_follow_up_tasks(follow_up=case))[0]
        if label == "B":
            task_release(actor=task.owner, task=task)
            task.refresh_from_db()
            label = "B (in the queue)"
        tasks.append((label, task))
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    delegations, saved_filters = [], []
    for label, case in (("own organisation", by_label["A"]),
                        ("other organisation", by_label["other organisation"])):
        chair = body_chair_on(body=case.department.board)
        member = (Membership.objects.filter(body=case.department.board)
                  .exclude(person=chair).first().person)
        delegations.append((label, Delegation.objects.create(
            person=chair, substitute=member, organisation=case.department.organisation,
            starts_on=tomorrow, ends_on=tomorrow, created_by=chair,
            created_at=timezone.now())))
        saved_filters.append((label, SavedTaskFilter.objects.create(
            person=Person.objects.get(pk=chair.pk), name="Mine", query="view=mine")))
    return tasks, delegations, saved_filters


def calendar_feeds():
    """A calendar address of a board chair in each organisation (their own calendar)."""
    from governance.models import Person
    from notifications.calendar import calendar_feed_create

    return [(label, calendar_feed_create(actor=Person.objects.get(username=username)))
            for label, username in (("own organisation", "ab-formand"),
                                    ("other organisation", "anden-org"))]


def people():
    """A board member of department A (own organisation), a member of staff, and a board
    member of the other organisation (the people whose history pages are checked)."""
    from governance.models import Person

    return [(label, Person.objects.get(username=username))
            for label, username in (("own organisation", "ab-formand"),
                                    ("own organisation, staff", "serviceleder"),
                                    ("other organisation", "anden-org"))]


def person_history_outcome(user, person) -> str:
    """Themself, or whoever may read the trail (audit.view) of an organisation in which the
    person holds or held a mandate; nobody else even learns that the person exists."""
    from governance.models import StaffAssignment

    if user.pk == person.pk:
        return "allowed"
    organisations = (set(Membership.objects.filter(person=person)
                         .values_list("body__organisation_id", flat=True))
                     | set(StaffAssignment.objects.filter(person=person)
                           .values_list("organisation_id", flat=True)))
    readers = MATRIX[Action.AUDIT_VIEW]
    if any(roles_in_organisation(user=user, organisation_id=o) & readers for o in organisations):
        return "allowed"
    return "not visible"


def rule_outcome(user, guard: Guard, obj) -> str:
    """The answer a rule-guarded route should give (see permissions.routes.RULES)."""
    from workflows.models import TaskMandate
    from workflows.services import may_reassign

    if guard.target == Target.PERSON:
        return person_history_outcome(user, obj)
    if guard.target in (Target.SAVED_FILTER, Target.CALENDAR_FEED):
        return "allowed" if obj.person_id == user.pk else "not visible"
    if guard.target == Target.DELEGATION:
        secretary = ("staff", "operations_secretary") in roles_in_organisation(
            user=user, organisation_id=obj.organisation_id)
        if not (secretary or user.pk in (obj.person_id, obj.substitute_id, obj.created_by_id)):
            return "not visible"
        return "allowed" if secretary or user.pk == obj.person_id else "forbidden"
    obj.refresh_from_db()
    mandate = TaskMandate.objects.select_related("body", "department__board").get(task=obj)
    in_groups = mandate.candidate_groups.filter(user=user).exists()
    reassigner = may_reassign(actor=user, mandate=mandate)
    visible = (obj.owner_id == user.pk or in_groups or mandate.delegated_from_id == user.pk
               or reassigner)
    if not visible:
        return "not visible"
    allowed = {"task.view": True, "task.claim": in_groups, "task.owner": obj.owner_id == user.pk,
               "task.reassign": reassigner}[guard.rule]
    return "allowed" if allowed else "forbidden"


def organisation_id_of(obj) -> int:
    for path in ("organisation_id", "plan.organisation_id", "body.organisation_id"):
        value = obj
        for part in path.split("."):
            value = getattr(value, part, None)
        if value is not None:
            return value
    return obj.pk  # an organisation


def url_for(name: str, params: tuple[str, ...], obj) -> str:
    plan = getattr(obj, "plan", obj)
    values = {
        "pk": obj.pk,
        "body_pk": obj.pk,
        "initiative_pk": lambda: plan.initiatives.order_by("position").first().pk,
        "theme_pk": lambda: plan.programme.themes.order_by("number").first().pk,
        "number": lambda: plan.current_revision.number if plan.current_revision else 1,
        "remark_pk": lambda: obj.board_remarks.first().pk,
    }
    kwargs = {}
    for param in params:
        value = values[param]
        kwargs[param] = value() if callable(value) else value
    return reverse(name, kwargs=kwargs)


def expected(user, guard: Guard, obj) -> str:
    """"not visible", "forbidden" or "allowed", from the matrix and the user's roles."""
    if guard.target in DEPARTMENT_TARGETS:
        roles = roles_in_department(user=user, department=obj.department)
    else:
        roles = roles_in_organisation(user=user, organisation_id=organisation_id_of(obj))
    if guard.access == Access.BODY_CHAIR:
        if not roles:
            return "not visible"
        chair = body_chair_on(body=obj)
        return "allowed" if chair is not None and chair.pk == user.pk else "forbidden"
    if not roles & MATRIX[VIEW_ACTION[guard.target]]:
        return "not visible"
    if guard.actions and not any(roles & MATRIX[action] for action in guard.actions):
        return "forbidden"
    return "allowed"


def request(client, name: str, method: str, url: str):
    if method == "GET":
        return client.get(url)
    send = getattr(client, method.lower())
    if name.startswith("v1:"):
        return send(url, data={}, content_type="application/json")
    return send(url, data={})


def check(status: int, outcome: str) -> bool:
    if outcome == "not visible":
        return status == 404
    if outcome == "forbidden":
        return status == 403
    return status < 500 and status not in (401, 403, 404)


def outcomes(user, guard: Guard, actions, targets) -> list[tuple[str, object, str]]:
    """(target label, object, expected outcome) for one method of a route."""
    from dataclasses import replace

    from permissions.selectors import permitted_actions, visible_organisations

    if guard.access == Access.LOGIN:
        return [("-", None, "allowed")]
    if guard.access == Access.ANY_ORGANISATION:
        may = any(set(actions) & permitted_actions(user=user, organisation_id=o.pk)
                  for o in visible_organisations(user=user))
        return [("-", None, "allowed" if may else "forbidden")]
    if guard.access == Access.RULE:
        return [(label, obj, rule_outcome(user, guard, obj))
                for label, obj in targets[guard.target]]
    guard = replace(guard, actions=actions)
    return [(label, obj, expected(user, guard, obj)) for label, obj in targets[guard.target]]


@pytest.mark.parametrize("username", PERSONAS)
def test_every_route_answers_as_the_matrix_says(client, persona, targets, username):
    user = persona(username)
    client.force_login(user)
    wrong, checked = [], 0
    for name, (guard, params) in sorted(guarded_routes().items()):
        for method, actions in guard.checks():
            for label, obj, outcome in outcomes(user, guard, actions, targets):
                url = reverse(name) if obj is None else url_for(name, params, obj)
                status = request(client, name, method, url).status_code
                checked += 1
                if not check(status, outcome):
                    wrong.append(f"{name} [{label}] {method} {url}: {status}, "
                                 f"expected {outcome}")
    assert wrong == []
    assert checked > 100


def test_anonymous_visitors_get_the_login_page_or_401(client, targets):
    for name, (guard, params) in sorted(guarded_routes().items()):
        obj = None if guard.access in (Access.LOGIN, Access.ANY_ORGANISATION) else \
            targets[guard.target][0][1]
        url = reverse(name) if obj is None else url_for(name, params, obj)
        status = request(client, name, guard.method, url).status_code
        if name.startswith("v1:"):
            assert status in (401, 403), (name, status)
        else:
            assert status == 302, (name, status)


@pytest.mark.parametrize("username", ["sekretaer", "ab-formand", "ob-formand"])
def test_the_admin_site_is_closed_to_every_persona(client, persona, username):
    client.force_login(persona(username))
    for path in ("/admin/", "/admin/cycles/followup/", "/admin/governance/person/"):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
