"""Shared parts of the hostile-input tests (tests/test_fuzz_api.py, tests/test_fuzz_forms.py).

* :func:`hostile_values` — what a careless or hostile client sends: empty, whitespace, NUL
  bytes, huge strings, unicode that breaks naive code, numbers out of every range, impossible
  dates in both the Danish and the ISO format, and ids of real objects (also of the other
  organisation).
* :func:`plans_in_every_state` — the demo has a published plan and a draft; the fuzzers also
  need a plan in each review and decision step and one presented, so every step's input is
  actually read (otherwise the step answers 409 before looking at the body).
* :func:`follow_up_with_the_board` — a case a persona (the board's chair) can acknowledge.
* :class:`Reach` — per persona, the objects it can see and may act on now.
* :func:`rolled_back` — each example runs in a savepoint that is rolled back, so every example
  starts from the same data (reproducible with ``derandomize``) and a write that succeeded
  does not move a plan out of the state the next example needs.
* :func:`connections_kept_open` — the WSGI application called in-process keeps the test's
  database connection.

Budget: every example is one request against the database; the settings below keep both
files at about a minute per database on a 2-core machine (docs/security.md, "Hostile input").
"""

import contextlib
import datetime
import os

from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# One place for the fuzzers' Hypothesis settings: reproducible (derandomize, no example
# database), no per-example deadline (a request's time depends on the machine), and no health
# check about slow data generation (examples are database requests by design).
FUZZ_SETTINGS = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": list(HealthCheck),
    "print_blob": False,
}


# A deeper run than CI's, by hand: AARSHJUL_FUZZ_SCALE=10 multiplies every example budget.
SCALE = int(os.environ.get("AARSHJUL_FUZZ_SCALE", "1"))


def fuzz_settings(max_examples: int) -> settings:
    return settings(max_examples=max_examples * SCALE, **FUZZ_SETTINGS)


# --- hostile values ------------------------------------------------------------------------

HUGE = 100_001  # longer than any text field's limit (10 000) and any database varchar
TRICKY_TEXTS = [
    "",
    " ",
    "\t\n\r ",
    "\x00",
    "a\x00b",
    "\ufeff",
    "\u202e\u202d",  # bidi overrides
    "Z\u0351\u0337\u0335\u0334",  # combining marks
    "\U0001f4a9\U0001f3f3\ufe0f\u200d\U0001f308",  # astral plane, ZWJ sequence
    "\ufffd\uffff",  # the replacement character, a noncharacter
    "Ærø Østergård Ål",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%(state)s %s {0} {}",
    "../../etc/passwd",
    "null",
    "true",
    "[]",
    "{}",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e309",
    "-0",
    "0x10",
    "0",
    "-1",
    "-9223372036854775809",
    "9223372036854775808",
    "99999999999999999999999999999999",
    "1.5",
    "1,5",
    # dates that do not exist or are out of range, in both formats the pages accept
    "31.02.2026",
    "29.02.2027",
    "00.00.0000",
    "32.13.2026",
    "31.12.9999",
    "01.01.0001",
    "2026-02-31",
    "2026-13-01",
    "0000-00-00",
    "9999-12-31",
    "0001-01-01",
    "2026-02-28T25:61:00",
    "24:00",
    "99:99",
]


def huge_texts() -> st.SearchStrategy[str]:
    return st.sampled_from(["x" * HUGE, "Æ" * 4097, "7" * 400, "\x00" * 1000])


def tricky_texts() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(TRICKY_TEXTS),
        huge_texts(),
        st.text(max_size=40),  # any unicode, surrogates excluded by Hypothesis
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.dates().map(lambda d: d.strftime("%d.%m.%Y")),
    )


def hostile_values(ids: list[int]) -> st.SearchStrategy[str]:
    """One hostile form value; ``ids`` are real primary keys (own and other organisation)."""
    strategies = [tricky_texts()]
    if ids:
        strategies.append(st.sampled_from(ids).map(str))
    return st.one_of(*strategies)


# --- plans in every step --------------------------------------------------------------------

PLAN_STEPS = ("follow_up_group_review", "operations_committee", "organisation_board",
              "presented")


def plans_in_every_state(*, today: datetime.date | None = None) -> dict[str, object]:
    """Plans of the demo organisation in the review and decision steps and presented.

    The demo programme covers 2023–2027 and uses 2026 (published) and 2027 (draft); a second
    programme covers 2028–2031 for these. Walked through the services, so each carries its
    revisions, sign-offs and viewflow tasks like a real one.
    """
    from django.utils import timezone

    from cycles import services as cycles
    from cycles.models import AnnualPlan, SignOff
    from fixtures.demo import DEMO_PASSWORD, DEMO_SLUG
    from governance.models import Organisation, Person
    from workflows.services import plan_act, plan_create_and_route

    today = today or timezone.localdate()
    organisation = Organisation.objects.get(slug=DEMO_SLUG)
    people = {p.username: p for p in Person.objects.filter(username__in=[
        "sekretaer", "fg-formand", "du-formand", "ob-formand"])}
    old = organisation.programmes.order_by("first_year").first()
    programme = cycles.programme_create(
        actor=None, organisation=organisation, name="Driftsprogram 2028–2031", first_year=2028,
        last_year=2031, themes=[(t.title, t.purpose) for t in old.themes.order_by("number")])
    plans = {}
    for year, target in zip(range(2028, 2032), PLAN_STEPS, strict=True):
        plan = plan_create_and_route(actor=people["sekretaer"], organisation=organisation,
                                     year=year, title=f"Årsplan {year}")
        for theme in programme.themes.order_by("number"):
            cycles.initiative_create(actor=people["sekretaer"], plan=plan, theme=theme,
                                     title=f"Indsats {theme.number}",
                                     target="Målet er nået.")
        plan = plan_act(cycles.plan_submit, actor=people["sekretaer"], plan=plan)
        if target == "follow_up_group_review":  # back once and again: two revisions to diff
            plan = plan_act(cycles.plan_return, actor=people["fg-formand"], plan=plan,
                            reason="Uddyb målene.")
            cycles.plan_update(actor=people["sekretaer"], plan=plan, title=f"Årsplan {year}",
                               summary="Målene er uddybet.")
            plan = plan_act(cycles.plan_submit, actor=people["sekretaer"],
                            plan=AnnualPlan.objects.get(pk=plan.pk))
        else:
            plan = plan_act(cycles.plan_close_review, actor=people["fg-formand"], plan=plan,
                            recommendation="Følgegruppen anbefaler planen.")
        if target in ("organisation_board", "presented"):
            plan_act(cycles.plan_sign, actor=people["du-formand"], plan=plan,
                     decision=SignOff.Decision.APPROVE, password=DEMO_PASSWORD,
                     comment="Driftsudvalget indstiller planen.")
        if target == "presented":
            plan_act(cycles.plan_sign, actor=people["ob-formand"], plan=plan,
                     decision=SignOff.Decision.APPROVE, password=DEMO_PASSWORD,
                     comment="Godkendt.")
            plan = AnnualPlan.objects.get(pk=plan.pk)
            plan_act(cycles.plan_register_presentation, actor=people["sekretaer"], plan=plan,
                     presented_on=today, minutes_reference="Repræsentantskabsmøde, pkt. 4")
        plan = AnnualPlan.objects.get(pk=plan.pk)
        assert plan.state == target, (year, plan.state)
        plans[target] = plan
    return plans


def follow_up_with_the_board(*, chair: str = "ab-formand"):
    """The second-half case of the chair's department, prepared and sent to its board (the
    demo's cases of the personas' departments are closed or scheduled): the chair can then
    acknowledge it and add remarks, staff can take it back."""
    from cycles import services as cycles
    from cycles.models import FollowUp, FollowUpRemark
    from governance.models import Person
    from workflows.services import follow_up_act

    manager = Person.objects.get(username="driftschef")
    case = FollowUp.objects.get(plan__year=2026, half=FollowUp.Half.H2,
                                department__board__memberships__person__username=chair)
    remarks = [{"initiative": r.initiative, "status": FollowUpRemark.Status.ONGOING,
                "progress": 50, "text": "I gang."} for r in case.remarks.all()]
    case = follow_up_act(cycles.follow_up_save, actor=manager, follow_up=case,
                         summary="Status for andet halvår.", remarks=remarks)
    case = follow_up_act(cycles.follow_up_mark_ready, actor=manager, follow_up=case)
    assert case.state == FollowUp.State.READY_FOR_BOARD, case.state
    return case


# --- who can reach what ---------------------------------------------------------------------

class Reach:
    """Per persona, the objects it can see and those it may act on now (role and state), so
    generated requests get past "not found" and "not allowed" into validation and the services.

    ``visible[collection]`` and ``ready[(collection, action)]`` are lists of (username, id);
    collections and actions are named as in the API (``plans``, ``follow-ups``; ``sign``,
    ``mark-ready``), from the selectors the pages and the API ask themselves.
    """

    def __init__(self, usernames):
        from cycles import selectors as cycle_selectors
        from cycles.models import Initiative
        from governance.models import Person
        from permissions import selectors as visible
        from workflows import selectors as task_selectors
        from workflows.api import task_allowed_actions

        def ids(rows):
            return sorted(rows.values_list("pk", flat=True).distinct())

        self.people = list(Person.objects.filter(username__in=usernames).order_by("username"))
        self.visible: dict[str, list[tuple[str, int]]] = {}
        self.ready: dict[tuple[str, str], list[tuple[str, int]]] = {}

        def add(table, key, username, rows):
            table.setdefault(key, []).extend((username, pk) for pk in rows)

        for person in self.people:
            name = person.username
            plans = list(cycle_selectors.plans_for_user(user=person))
            follow_ups = list(cycle_selectors.follow_ups_for_user(user=person)
                              .select_related("department"))
            rollouts = list(cycle_selectors.rollouts_for_user(user=person))
            tasks = {task.pk: task for view in ("mine", "group", "delegated", "snoozed", "done")
                     for task in task_selectors.inbox(user=person, view=view)}
            for collection, rows in {
                "plans": [p.pk for p in plans],
                "initiatives": ids(Initiative.objects.filter(plan__in=plans)),
                "follow-ups": [f.pk for f in follow_ups],
                "rollouts": [r.pk for r in rollouts],
                "tasks": sorted(tasks),
                "delegations": ids(task_selectors.delegations_for_user(user=person)),
                "organisations": ids(visible.visible_organisations(user=person)),
                "operations-areas": ids(visible.visible_operations_areas(user=person)),
                "departments": ids(visible.visible_departments(user=person)),
                "bodies": ids(visible.visible_bodies(user=person)),
                "memberships": ids(visible.visible_memberships(user=person))[:10],
            }.items():
                add(self.visible, collection, name, rows)
            for plan in plans:
                permitted = visible.permitted_actions(user=person,
                                                      organisation_id=plan.organisation_id)
                for action in cycle_selectors.plan_allowed_actions(
                        plan=plan, permitted=permitted, submit_blockers=plan.submit_blockers()):
                    add(self.ready, ("plans", action), name, [plan.pk])
                    if action == "edit":
                        add(self.ready, ("initiatives", action), name,
                            ids(plan.initiatives.all()))
            for case in follow_ups:
                permitted = visible.permitted_department_actions(user=person,
                                                                 department=case.department)
                for action in cycle_selectors.follow_up_allowed_actions(follow_up=case,
                                                                        permitted=permitted):
                    add(self.ready, ("follow-ups", action), name, [case.pk])
            for rollout in rollouts:
                permitted = visible.permitted_department_actions(user=person,
                                                                 department=rollout.department)
                for action in cycle_selectors.rollout_allowed_actions(rollout=rollout,
                                                                      permitted=permitted):
                    add(self.ready, ("rollouts", action), name, [rollout.pk])
            for task in tasks.values():
                for action in task_allowed_actions(task=task, user=person):
                    add(self.ready, ("tasks", action), name, [task.pk])


# --- one example, then back --------------------------------------------------------------------

@contextlib.contextmanager
def connections_kept_open():
    """Django's WSGI handler closes "old" database connections when a request starts and
    ends; called in-process inside a test's transaction that ends the transaction on
    PostgreSQL. Django's test client switches this off the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


class _Rollback(Exception):
    pass


@contextlib.contextmanager
def rolled_back():
    """Run the block in a savepoint and undo whatever it wrote (also after an error)."""
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass
