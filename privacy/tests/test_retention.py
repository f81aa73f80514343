"""The retention periods (RETENTION_* settings, privacy.services.retention_apply), with the
clock moved past each: what goes, what stays, the dry run, the record of each run, the command
and beat's daily task."""

import datetime
import io
import re
from pathlib import Path

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from viewflow.workflow.models import Task

from audit.models import AuditEntry
from cycles import services as cycle_services
from cycles.models import BoardRemark, FollowUp, FollowUpRemark, MeetingKind
from fixtures.demo import DEMO_PASSWORD
from governance.models import Membership, Person, StaffAssignment
from notifications.models import Notification
from privacy.models import RetentionRun
from privacy.selectors import erased_username
from privacy.services import closed_cases_with_text, redacted_text, retention_apply
from privacy.tests.footprint import TODAY, case_of
from tests.clock import frozen_before_demo, frozen_on
from workflows import services as workflow_services
from workflows.models import TaskComment
from workflows.services import OPEN_STATUSES, follow_up_act, open_follow_up_tasks

pytestmark = pytest.mark.django_db

_frozen_today = frozen_before_demo(TODAY)
DAY = datetime.timedelta(days=1)


def after(days: int = 0, *, years: int = 0) -> datetime.date:
    return TODAY.replace(year=TODAY.year + years) + datetime.timedelta(days=days)


def apply_on(day: datetime.date, **options) -> dict:
    with frozen_on(day, hour=3):
        return retention_apply(**options)


# --- e-mails, sign-ins, sessions ------------------------------------------------------------

def reminder(recipient, *, task, state=Notification.State.SENT, rung="before-7"):
    return Notification.objects.create(
        key=f"{recipient.pk}:{task.pk if task else '-'}:{rung}:-", recipient=recipient,
        task=task, rung=rung, state=state, created_at=timezone.now(),
        sent_at=timezone.now() if state == Notification.State.SENT else None)


def test_sent_e_mails_of_finished_tasks_go_after_90_days_those_of_open_tasks_stay(persona):
    manager = persona("driftschef")
    open_task = Task.objects.filter(owner=manager, status__in=OPEN_STATUSES).first()
    done_task = Task.objects.exclude(status__in=OPEN_STATUSES).first()
    finished = reminder(manager, task=done_task)
    digest = reminder(manager, task=None, rung="digest-daily")
    failed = reminder(manager, task=done_task, state=Notification.State.FAILED, rung="due")
    still_open = reminder(manager, task=open_task)  # keeps the reminder from going twice
    waiting = reminder(manager, task=done_task, state=Notification.State.PENDING, rung="x")

    assert apply_on(after(89))["notifications"] == 0
    assert apply_on(after(91))["notifications"] == 3

    left = set(Notification.objects.values_list("pk", flat=True))
    assert {finished.pk, digest.pk, failed.pk} & left == set()
    assert {still_open.pk, waiting.pk} <= left


def test_failed_sign_ins_go_after_30_days_and_the_sign_in_log_after_90(persona):
    Client().post("/login/", {"username": "ab-medlem", "password": "wrong"},
                  REMOTE_ADDR="10.1.1.1")
    Client().post("/login/", {"username": "ab-anden", "password": DEMO_PASSWORD},
                  REMOTE_ADDR="10.1.1.2")
    AccessFailureLog.objects.create(username="ab-medlem", ip_address="10.1.1.1",
                                    user_agent="", http_accept="", path_info="/login/")
    assert (AccessAttempt.objects.count(), AccessLog.objects.count()) == (1, 1)

    assert apply_on(after(29))["failed_sign_ins"] == 0
    counts = apply_on(after(31))
    assert (counts["failed_sign_ins"], counts["sign_in_log"]) == (2, 0)
    assert AccessLog.objects.count() == 1
    assert apply_on(after(91))["sign_in_log"] == 1
    assert not AccessAttempt.objects.exists() and not AccessLog.objects.exists()


def test_expired_sessions_go_and_live_ones_stay(client, persona):
    client.force_login(persona("ab-medlem"))  # ends after SESSION_COOKIE_AGE (8 hours)
    with frozen_on(after(1), hour=2):
        Client().force_login(persona("ab-anden"))  # still running at 03:00
    assert Session.objects.count() == 2
    assert apply_on(after(1))["expired_sessions"] == 1
    assert Session.objects.count() == 1


# --- task comments and closed cases ---------------------------------------------------------

def prepared_case(persona) -> FollowUp:
    """Department 1's second-half case, prepared by staff (their task is done) and now with the
    board's chair (an open task), a comment on each task."""
    manager, chair = persona("driftschef"), persona("ab-formand")
    case = case_of(1)
    [prepare] = open_follow_up_tasks(follow_up=case)
    workflow_services.task_comment_add(actor=manager, task=prepare, text="Tal fra varmeværket.")
    remarks = [{"initiative": r.initiative, "status": "done", "progress": 100,
                "text": "Færdig i maj; varmeregnskabet viser 6 % mindre forbrug."}
               for r in FollowUpRemark.objects.filter(follow_up=case)]
    follow_up_act(cycle_services.follow_up_save, actor=manager, follow_up=case,
                  summary="Halvåret gik efter planen.", remarks=remarks)
    follow_up_act(cycle_services.follow_up_mark_ready, actor=manager, follow_up=case)
    [acknowledge] = open_follow_up_tasks(follow_up=case)
    workflow_services.task_comment_add(actor=chair, task=acknowledge, text="På mødet i marts.")
    return case


def closed_case(persona) -> FollowUp:
    manager, chair = persona("driftschef"), persona("ab-formand")
    case = prepared_case(persona)
    remark = cycle_services.board_remark_add(actor=chair, follow_up=case,
                                             text="Hvorfor blev vaskeriet dyrere?")
    follow_up_act(cycle_services.follow_up_acknowledge, actor=chair, follow_up=case,
                  presented_on=TODAY, meeting_kind=MeetingKind.BOARD_MEETING)
    cycle_services.board_remark_answer(actor=manager, remark=remark, answer="wont_act",
                                       text="Prisen er aftalt for tre år.")
    follow_up_act(cycle_services.follow_up_close, actor=manager, follow_up=case)
    return FollowUp.objects.get(pk=case.pk)


def test_comments_on_tasks_finished_two_years_ago_go_those_on_open_tasks_stay(persona):
    case = prepared_case(persona)
    assert TaskComment.objects.count() == 2

    assert apply_on(after(-1, years=2))["task_comments"] == 0
    assert apply_on(after(1, years=2))["task_comments"] == 1

    assert list(TaskComment.objects.values_list("text", flat=True)) == ["På mødet i marts."]
    assert open_follow_up_tasks(follow_up=case).get().comments.count() == 1


def test_a_closed_cases_free_text_is_replaced_after_five_years_and_the_facts_stay(persona):
    case = closed_case(persona)
    due = closed_cases_with_text(cutoff=after(1, years=5))
    assert case in due  # with the demo's cases closed before today
    assert apply_on(after(-1, years=5))["closed_case_texts"] == 0

    assert apply_on(after(1, years=5))["closed_case_texts"] == len(due)

    placeholder = redacted_text()
    case.refresh_from_db()
    remark = BoardRemark.objects.get(follow_up=case)
    assert case.summary == placeholder
    assert set(FollowUpRemark.objects.filter(follow_up=case).values_list(
        "text", "status", "progress")) == {(placeholder, "done", 100)}
    assert (remark.text, remark.answer, remark.answer_text) == (
        placeholder, "wont_act", placeholder)
    assert (case.state, case.presented_on, remark.author, remark.answered_by) == (
        FollowUp.State.CLOSED, TODAY, persona("ab-formand"), persona("driftschef"))
    texts = 1 + FollowUpRemark.objects.filter(follow_up=case).count() + 2
    entry = AuditEntry.objects.get(action="follow_up.retention_redact", object_id=str(case.pk))
    assert (entry.actor, entry.summary) == (None, {"texts": texts, "years": 5})
    assert apply_on(after(2, years=5))["closed_case_texts"] == 0  # once
    assert AuditEntry.objects.filter(action="follow_up.retention_redact").count() == len(due)


def test_open_cases_keep_their_text_however_old(persona):
    case = prepared_case(persona)
    apply_on(after(years=10))
    case.refresh_from_db()
    assert case.summary == "Halvåret gik efter planen."
    assert not FollowUpRemark.objects.filter(follow_up=case, text=redacted_text()).exists()
    assert not FollowUp.objects.exclude(state=FollowUp.State.CLOSED).filter(
        summary=redacted_text()).exists()


# --- people without a mandate ---------------------------------------------------------------

def former_chair() -> Person:
    """The chair of department 1's board before this term (until 14.09.2025)."""
    board = case_of(1).department.board
    return Membership.objects.get(body=board, role="chair", ends_on__isnull=False).person


def test_people_without_a_mandate_for_five_years_are_erased_and_no_one_else(persona):
    """The former chair's term ended 14.09.2025; their account was made (with the demo) on
    02.03.2026, and an account younger than the period is never erased (a history loaded into
    a new installation must not erase everyone in it). So: five years from 02.03.2026."""
    gone = former_chair()
    assert Membership.objects.filter(person=gone).latest("ends_on").ends_on == datetime.date(
        2025, 9, 14)
    admin = Person.objects.get(is_superuser=True)
    current = persona("ab-formand")

    assert apply_on(after(-1, years=5))["people_erased"] == 0
    counts = apply_on(after(1, years=5))

    assert counts["people_erased"] >= 1
    gone.refresh_from_db()
    assert (gone.username, gone.is_active) == (erased_username(gone.pk), False)
    entry = AuditEntry.objects.get(action="person.erase", object_id=str(gone.pk))
    assert (entry.actor, entry.summary["via"]) == (None, "retention")
    for kept in (admin, current):
        kept.refresh_from_db()
        assert not kept.username.startswith("slettet-")
    erased = set(Person.objects.filter(username__startswith="slettet-").values_list(
        "pk", flat=True))
    assert len(erased) == counts["people_erased"]
    seated = set(Membership.objects.filter(ends_on__isnull=True).values_list(
        "person_id", flat=True))
    staff = set(StaffAssignment.objects.values_list("person_id", flat=True))
    assert erased & (seated | staff) == set()


def test_someone_who_signed_in_lately_or_still_holds_a_task_is_kept(persona):
    gone, signed_in = former_chair(), persona("ab-medlem")
    task = Task.objects.filter(status__in=OPEN_STATUSES, owner=persona("driftschef")).first()
    Task.objects.filter(pk=task.pk).update(owner=gone)  # a task nobody moved
    Membership.objects.filter(person=signed_in).update(ends_on=TODAY - DAY)
    later = after(1, years=5)
    with frozen_on(later - DAY):
        Client().force_login(signed_in)

    counts = apply_on(later)

    assert counts["people_kept"] == 1
    gone.refresh_from_db()
    signed_in.refresh_from_db()
    assert gone.username != erased_username(gone.pk)
    assert signed_in.username == "ab-medlem"


# --- the run as a whole ---------------------------------------------------------------------

def test_a_dry_run_counts_the_same_and_changes_nothing(persona):
    closed_case(persona)
    later = after(1, years=6)
    audit_before = AuditEntry.objects.count()
    notifications, comments = Notification.objects.count(), TaskComment.objects.count()

    dry = apply_on(later, dry_run=True)

    assert (AuditEntry.objects.count(), Notification.objects.count(),
            TaskComment.objects.count()) == (audit_before, notifications, comments)
    assert not RetentionRun.objects.exists()
    assert not FollowUp.objects.filter(summary=redacted_text()).exists()
    assert dry["closed_case_texts"] >= 1 and dry["task_comments"] == 2
    assert dry["people_erased"] >= 1
    real = apply_on(later)
    assert real == dry


def test_each_run_is_recorded_and_the_audit_trail_still_verifies(persona):
    closed_case(persona)
    out = io.StringIO()
    with frozen_on(after(1, years=6), hour=3):
        call_command("apply_retention", stdout=out)
    text = out.getvalue()
    run = RetentionRun.objects.get()
    assert run.counts["task_comments"] == 2 and run.counts["people_erased"] >= 1
    for kind, count in run.counts.items():
        assert re.search(rf"^{kind}\s+{count}$", text, re.MULTILINE)
    assert run.periods["RETENTION_INACTIVE_PERSON_YEARS"] == 5
    ran_at = timezone.localtime(run.ran_at)
    assert (ran_at.date(), ran_at.hour) == (after(1, years=6), 3)
    entry = AuditEntry.objects.get(action="retention.apply")
    assert (entry.object_id, entry.summary, entry.chain) == (str(run.pk), run.counts, "global")
    verified = io.StringIO()
    call_command("verify_audit", stdout=verified)
    assert "The audit trail is intact" in verified.getvalue()


def test_the_dry_run_command_says_so(persona):
    out = io.StringIO()
    call_command("apply_retention", "--dry-run", stdout=out)
    assert "Dry run: nothing was changed." in out.getvalue()
    assert not RetentionRun.objects.exists()


def test_zero_years_means_never(persona, settings):
    closed_case(persona)
    settings.RETENTION_CLOSED_CASE_YEARS = 0
    settings.RETENTION_INACTIVE_PERSON_YEARS = 0
    settings.RETENTION_TASK_COMMENT_YEARS = 0
    counts = apply_on(after(years=20))
    assert (counts["closed_case_texts"], counts["people_erased"], counts["task_comments"]) == (
        0, 0, 0)
    assert not Person.objects.filter(username__startswith="slettet-").exists()


def test_beat_runs_it_daily_through_the_celery_task(persona):
    from celery.schedules import crontab

    from privacy.tasks import retention_task

    entry = settings.CELERY_BEAT_SCHEDULE["privacy-retention"]
    assert entry["task"] == retention_task.name == "privacy.apply_retention"
    assert entry["schedule"] == crontab(hour=3, minute=15)
    counts = retention_task.apply().get()  # eager, as in the demo
    assert set(counts) >= {"notifications", "failed_sign_ins", "people_erased"}
    assert RetentionRun.objects.count() == 1


def test_every_retention_setting_is_documented_for_deployment():
    root = Path(__file__).resolve().parents[2]
    names = set(re.findall(r'env_\w+\(\s*"(RETENTION_\w+)"',
                           (root / "config" / "settings.py").read_text(encoding="utf-8")))
    assert len(names) == 6
    deployment = (root / "docs" / "deployment.md").read_text(encoding="utf-8")
    assert sorted(name for name in names if f"`{name}`" not in deployment) == []
