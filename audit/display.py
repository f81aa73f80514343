"""The audit trail as people read it: a label per action code, the object an entry is about,
and its before/after summary in words.

Entries store ids, never names (a name would be frozen into the hash chain); names are read
from the rows at display time, so a renamed or pseudonymised person shows as they are now.
:func:`entry_rows` turns a page of entries into rows with a fixed number of queries: one for
every person the page names, and one per kind of object on the page (at most one per entry in
``OBJECTS``), however many entries there are.
"""

import datetime
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AuditEntry

# --- what happened ------------------------------------------------------------------------

ACTION_LABELS = {
    "auth.login": gettext_lazy("Signed in"),
    "auth.logout": gettext_lazy("Signed out"),
    "auth.login_failed": gettext_lazy("Failed sign-in"),
    "organisation.create": gettext_lazy("Organisation created"),
    "body.create": gettext_lazy("Body created"),
    "operations_area.create": gettext_lazy("Operations area created"),
    "department.create": gettext_lazy("Department created"),
    "person.create": gettext_lazy("Person created"),
    "programme.create": gettext_lazy("Operations programme created"),
    "signing_authorisation.grant": gettext_lazy("Vice-chair authorised to sign"),
    "membership.start": gettext_lazy("Term of office started"),
    "membership.end": gettext_lazy("Term of office ended"),
    "staff_assignment.start": gettext_lazy("Staff role started"),
    "staff_assignment.end": gettext_lazy("Staff role ended"),
    "permissions.groups_sync": gettext_lazy("Mandate groups updated"),
    "permissions.grants_update": gettext_lazy("Permissions updated from the matrix"),
    "permissions.grant": gettext_lazy("Permission granted"),
    "permissions.revoke": gettext_lazy("Permission revoked"),
    "permissions.reconcile": gettext_lazy("Permissions reconciled with the matrix"),
    "plan.create": gettext_lazy("Plan created"),
    "plan.update": gettext_lazy("Plan edited"),
    "plan.justify_theme": gettext_lazy("Reason for leaving out a theme saved"),
    "plan.comment": gettext_lazy("Comment on the plan"),
    "plan.submit": gettext_lazy("Plan submitted for review"),
    "plan.close_review": gettext_lazy("Review closed with a recommendation"),
    "plan.recommend": gettext_lazy("Plan recommended by the operations committee"),
    "plan.return_to_draft": gettext_lazy("Plan sent back to draft"),
    "plan.sign": gettext_lazy("Plan signed"),
    "plan.publish": gettext_lazy("Plan published"),
    "plan.register_presentation": gettext_lazy("Presentation of the plan registered"),
    "plan.evaluate": gettext_lazy("Year-end evaluation of the plan"),
    "plan.rollout_generate": gettext_lazy("Rollout plans and follow-ups created"),
    "initiative.create": gettext_lazy("Initiative added"),
    "initiative.update": gettext_lazy("Initiative changed"),
    "initiative.delete": gettext_lazy("Initiative deleted"),
    "rollout.register_presentation": gettext_lazy("Rollout plan presented to the board"),
    "follow_up.start_preparation": gettext_lazy("Follow-up preparation started"),
    "follow_up.save": gettext_lazy("Follow-up saved"),
    "follow_up.mark_ready": gettext_lazy("Follow-up sent to the board"),
    "follow_up.return_to_preparation": gettext_lazy("Follow-up sent back to preparation"),
    "follow_up.acknowledge": gettext_lazy("Follow-up acknowledged by the board"),
    "follow_up.board_remark": gettext_lazy("Remark from the board"),
    "follow_up.board_remark_answer": gettext_lazy("Remark from the board answered"),
    "follow_up.close": gettext_lazy("Follow-up closed"),
    "task.claim": gettext_lazy("Task claimed"),
    "task.release": gettext_lazy("Task released to the queue"),
    "task.reassign": gettext_lazy("Task reassigned"),
    "task.snooze": gettext_lazy("Task snoozed"),
    "task.comment": gettext_lazy("Comment on a task"),
    "task.reroute": gettext_lazy("Task moved to the new holder of the mandate"),
    "task.escalated": gettext_lazy("Task escalated"),
    "delegation.create": gettext_lazy("Substitute named"),
    "delegation.cancel": gettext_lazy("Substitute cancelled"),
    "meeting.create": gettext_lazy("Meeting added"),
    "meeting.update": gettext_lazy("Meeting changed"),
    "meeting.cancel": gettext_lazy("Meeting cancelled"),
    "step_deadline.save": gettext_lazy("Step deadline changed"),
    "step_deadline.reset": gettext_lazy("Step deadline reset"),
    "reminder_policy.save": gettext_lazy("Reminder ladder changed"),
    "reminder_policy.reset": gettext_lazy("Reminder ladder reset"),
    "notifications.preference_save": gettext_lazy("Reminder preferences saved"),
    "notifications.resend": gettext_lazy("Notification sent again"),
    "calendar_feed.create": gettext_lazy("Calendar address created"),
    "calendar_feed.revoke": gettext_lazy("Calendar address revoked"),
    "export.tasks": gettext_lazy("Task list downloaded"),
    "export.follow_ups": gettext_lazy("Follow-up list downloaded"),
    "export.dashboard": gettext_lazy("Dashboard table downloaded"),
    "audit.export": gettext_lazy("Audit trail downloaded"),
    "admin.addition": gettext_lazy("Added in the administration"),
    "admin.change": gettext_lazy("Changed in the administration"),
    "admin.deletion": gettext_lazy("Deleted in the administration"),
    # Privacy (GDPR) and two-factor sign-in
    "person.export": gettext_lazy("Personal data downloaded"),
    "person.erase": gettext_lazy("Person erased (pseudonymised)"),
    "follow_up.retention_redact": gettext_lazy("Follow-up texts removed after the retention "
                                               "period"),
    "retention.apply": gettext_lazy("Retention rules applied"),
    "organisation.two_factor_requirement": gettext_lazy("Two-factor requirement changed"),
    "two_factor.setup_start": gettext_lazy("Two-factor setup started"),
    "two_factor.enable": gettext_lazy("Two-factor sign-in turned on"),
    "two_factor.verify": gettext_lazy("Two-factor code accepted"),
    "two_factor.verify_failed": gettext_lazy("Two-factor code refused"),
    "two_factor.recovery_codes_renew": gettext_lazy("Recovery codes renewed"),
    "two_factor.disable": gettext_lazy("Two-factor sign-in turned off"),
}

# The groups of the action filter: the part of the code before the dot.
ACTION_GROUPS = {
    "auth": gettext_lazy("Sign-ins"),
    "plan": gettext_lazy("Annual plans"),
    "initiative": gettext_lazy("Initiatives"),
    "rollout": gettext_lazy("Rollout plans"),
    "follow_up": gettext_lazy("Follow-ups"),
    "task": gettext_lazy("Tasks"),
    "delegation": gettext_lazy("Substitutes"),
    "membership": gettext_lazy("Terms of office"),
    "staff_assignment": gettext_lazy("Staff roles"),
    "signing_authorisation": gettext_lazy("Signing authorisations"),
    "permissions": gettext_lazy("Permissions"),
    "organisation": gettext_lazy("Organisations"),
    "operations_area": gettext_lazy("Operations areas"),
    "department": gettext_lazy("Departments"),
    "body": gettext_lazy("Bodies"),
    "person": gettext_lazy("People"),
    "programme": gettext_lazy("Operations programmes"),
    "meeting": gettext_lazy("Meetings"),
    "step_deadline": gettext_lazy("Step deadlines"),
    "reminder_policy": gettext_lazy("Reminder ladders"),
    "notifications": gettext_lazy("Reminders"),
    "calendar_feed": gettext_lazy("Calendar addresses"),
    "export": gettext_lazy("Downloads"),
    "audit": gettext_lazy("Audit trail"),
    "admin": gettext_lazy("Administration"),
    "two_factor": gettext_lazy("Two-factor sign-in"),
    "retention": gettext_lazy("Retention"),
}


def action_label(code: str) -> str:
    """The action in words; an unknown code is shown as it is."""
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code


def action_choices() -> list:
    """The action filter's choices: per group, "all of the group" (``plan.``) and each action
    (``plan.submit``)."""
    by_group = defaultdict(list)
    for code in ACTION_LABELS:
        by_group[code.split(".")[0]].append(code)
    return [(label, [(f"{group}.", _("All: %(group)s") % {"group": label}),
                     *((code, action_label(code)) for code in by_group[group])])
            for group, label in ACTION_GROUPS.items() if by_group[group]]


# --- whom and what it was about -----------------------------------------------------------

# Summary keys that hold a person's id, everywhere and for some actions only.
PERSON_KEYS = frozenset({"person", "substitute", "vice_chair", "owner", "on_behalf_of"})
PERSON_KEYS_BY_ACTION = {
    "task.reroute": frozenset({"from", "to"}),
    "task.reassign": frozenset({"from", "to"}),
    "task.escalated": frozenset({"to"}),
}
PERSON_TYPE = "governance.person"


def _model(label: str):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _members(queryset) -> Callable[[list], dict]:
    return lambda ids: {str(row.pk): row for row in queryset.filter(pk__in=ids)}


@dataclass(frozen=True)
class Shown:
    """How an object of one kind is shown: the rows (one query for a page's ids), their text,
    and a link to the object's page (or none)."""

    rows: Callable[[], Callable[[list], dict]]
    text: Callable[[object], str]
    url: Callable[[object], str] | None = None


def _task_text(task) -> str:
    from workflows.selectors import task_step_label

    return str(task_step_label(task))


def _objects() -> dict[str, Shown]:
    """Per object type: how to show it. Built on first use (it imports every app's models)."""
    from cycles.models import AnnualPlan, FollowUp, Initiative, Meeting, RolloutPlan
    from governance.models import (
        Body,
        Department,
        Membership,
        OperationsArea,
        Organisation,
        StaffAssignment,
    )
    from workflows.models import Delegation

    def plain(model, *related):
        rows = model.objects.select_related(*related) if related else model.objects.all()
        return lambda: _members(rows)

    return {
        "cycles.annualplan": Shown(plain(AnnualPlan), str,
                                   lambda plan: reverse("cycles:plan_detail", args=[plan.pk])),
        "cycles.followup": Shown(
            plain(FollowUp, "department", "plan"), str,
            lambda case: reverse("cycles:follow_up_detail", args=[case.pk])),
        "cycles.initiative": Shown(plain(Initiative), str),
        "cycles.rolloutplan": Shown(plain(RolloutPlan, "plan", "department"), str),
        "cycles.meeting": Shown(plain(Meeting, "body"), str),
        "governance.organisation": Shown(plain(Organisation), str),
        "governance.operationsarea": Shown(plain(OperationsArea), str),
        "governance.department": Shown(plain(Department), str),
        "governance.body": Shown(plain(Body), str),
        "governance.membership": Shown(plain(Membership, "person", "body"), str),
        "governance.staffassignment": Shown(
            plain(StaffAssignment, "person", "organisation", "operations_area"), str),
        "workflows.delegation": Shown(
            plain(Delegation, "person", "substitute"),
            lambda d: _("%(substitute)s stands in for %(person)s") % {
                "substitute": d.substitute, "person": d.person}),
        "viewflow.task": Shown(
            lambda: _members(apps.get_model("viewflow", "Task").objects.all()), _task_text),
    }


_OBJECTS: dict[str, Shown] | None = None


def shown_objects() -> dict[str, Shown]:
    global _OBJECTS
    if _OBJECTS is None:
        _OBJECTS = _objects()
    return _OBJECTS


def type_label(object_type: str) -> str:
    model = _model(object_type)
    return capfirst(str(model._meta.verbose_name)) if model is not None else object_type


def person_name(person) -> str:
    return person.get_full_name() or person.username


# --- the summary in words -----------------------------------------------------------------

SUMMARY_LABELS = {
    "from": gettext_lazy("From"),
    "to": gettext_lazy("To"),
    "reason": gettext_lazy("Reason"),
    "revision": gettext_lazy("Revision"),
    "title": gettext_lazy("Title"),
    "text": gettext_lazy("Text"),
    "name": gettext_lazy("Name"),
    "number": gettext_lazy("Number"),
    "kind": gettext_lazy("Kind"),
    "year": gettext_lazy("Year"),
    "person": gettext_lazy("Person"),
    "substitute": gettext_lazy("Substitute"),
    "vice_chair": gettext_lazy("Vice-chair"),
    "owner": gettext_lazy("Owner"),
    "on_behalf_of": gettext_lazy("On behalf of"),
    "body": gettext_lazy("Body"),
    "role": gettext_lazy("Role"),
    "starts_on": gettext_lazy("First day"),
    "ends_on": gettext_lazy("Last day"),
    "step": gettext_lazy("Step"),
    "decision": gettext_lazy("Decision"),
    "comment": gettext_lazy("Comment"),
    "remark": gettext_lazy("Remark"),
    "remarks": gettext_lazy("Remarks"),
    "answer": gettext_lazy("Answer"),
    "presented_on": gettext_lazy("Presented on"),
    "meeting": gettext_lazy("Meeting"),
    "theme": gettext_lazy("Theme"),
    "until": gettext_lazy("Until"),
    "task": gettext_lazy("Task"),
    "day": gettext_lazy("Day"),
    "date": gettext_lazy("Date"),
    "added": gettext_lazy("Added"),
    "removed": gettext_lazy("Removed"),
    "granted": gettext_lazy("Granted"),
    "revoked": gettext_lazy("Revoked"),
    "groups_created": gettext_lazy("Groups created"),
    "grants_added": gettext_lazy("Permissions granted"),
    "grants_removed": gettext_lazy("Permissions revoked"),
    "members_added": gettext_lazy("Members added"),
    "members_removed": gettext_lazy("Members removed"),
    "known_user": gettext_lazy("Known user name"),
    "format": gettext_lazy("Format"),
    "filters": gettext_lazy("Filters"),
    "rows": gettext_lazy("Rows"),
    "up_to_sequence": gettext_lazy("Up to entry number"),
    "change": gettext_lazy("Change"),
    "rollout_plans": gettext_lazy("Rollout plans"),
    "follow_ups": gettext_lazy("Follow-ups"),
    "permission": gettext_lazy("Permission"),
    "group": gettext_lazy("Group"),
    "plan": gettext_lazy("Annual plan"),
}
HIDDEN_KEYS = frozenset({"log_entry"})
# Summary keys that hold the id of a row with no page of its own (a comment, a remark …).
ID_KEYS = frozenset({"comment", "remark", "task", "group", "board"})
# Summary keys that hold the id of a row shown by name (read with the page's objects).
REFERENCE_KEYS = {"body": "governance.body", "plan": "cycles.annualplan",
                  "department": "governance.department",
                  "operations_area": "governance.operationsarea"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_HASH = re.compile(r"[0-9a-f]{64}")


def _key_rank(key: str) -> tuple[int, str]:
    """Summary keys in a fixed order (the order of SUMMARY_LABELS, then the others by name):
    PostgreSQL's JSON keeps no order of its own."""
    order = list(SUMMARY_LABELS)
    return (order.index(key), "") if key in SUMMARY_LABELS else (len(order), key)


def _key_label(key: str) -> str:
    label = SUMMARY_LABELS.get(key)
    return str(label) if label is not None else capfirst(key.replace("_", " "))


def _state_label(action: str, value):
    """A plan's or a case's state (``from``/``to``/``step``) by its name."""
    from cycles.models import AnnualPlan, FollowUp

    states = {"plan": AnnualPlan.State, "follow_up": FollowUp.State}.get(action.split(".")[0])
    if states is not None and value in states.values:
        return str(states(value).label)
    return None


def _choice_label(key: str, value) -> str | None:
    from cycles.models import SignOff
    from governance.models import Membership, StaffAssignment

    if key == "decision" and value in SignOff.Decision.values:
        return str(SignOff.Decision(value).label)
    if key == "role":
        for roles in (Membership.Role, StaffAssignment.Role):
            if value in roles.values:
                return str(roles(value).label)
    return None


class _Reader:
    """Reads one entry's summary, with the names of the people the page mentions."""

    def __init__(self, entry: AuditEntry, people: dict[str, object],
                 found: dict[str, dict] | None = None):
        self.entry, self.people, self.found = entry, people, found or {}
        self.person_keys = PERSON_KEYS | PERSON_KEYS_BY_ACTION.get(entry.action, frozenset())

    def value(self, key: str, value) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if key in self.person_keys and isinstance(value, int):
            person = self.people.get(str(value))
            return person_name(person) if person is not None else _("person #%(id)s") % {
                "id": value}
        if isinstance(value, list):
            return ", ".join(self.value(key, item) for item in value) if value else "—"
        if isinstance(value, dict):
            if set(value) == {"before", "after"}:
                return f"{self.value(key, value['before'])} → {self.value(key, value['after'])}"
            return "; ".join(f"{_key_label(k)}: {self.value(k, value[k])}"
                             for k in sorted(value, key=_key_rank))
        if key in ("from", "to", "step"):
            label = _state_label(self.entry.action, value)
            if label is not None:
                return label
        label = _choice_label(key, value)
        if label is not None:
            return label
        if key in REFERENCE_KEYS and isinstance(value, int):
            row = self.found.get(REFERENCE_KEYS[key], {}).get(str(value))
            return shown_objects()[REFERENCE_KEYS[key]].text(row) if row is not None \
                else f"#{value}"
        if key in ID_KEYS and isinstance(value, int):
            return f"#{value}"
        if isinstance(value, str):
            return self.text(value)
        return formats.number_format(value) if isinstance(value, float) else str(value)

    @staticmethod
    def text(value: str) -> str:
        if _DATETIME.match(value):
            try:
                moment = datetime.datetime.fromisoformat(value)
            except ValueError:
                return value
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return moment.strftime("%d.%m.%Y %H:%M")
        if _DATE.fullmatch(value):
            return datetime.date.fromisoformat(value).strftime("%d.%m.%Y")
        if _HASH.fullmatch(value):
            return value[:12]
        return value

    def lines(self) -> list[tuple[str, str]]:
        summary = self.entry.summary if isinstance(self.entry.summary, dict) else {}
        if self.entry.action.startswith("admin."):
            return self._admin_lines(summary)
        lines = []
        before, after = summary.get("before"), summary.get("after")
        if isinstance(before, dict) and isinstance(after, dict):
            for key in sorted({*before, *after}, key=_key_rank):
                lines.append((_key_label(key), f"{self.value(key, before.get(key))} → "
                                               f"{self.value(key, after.get(key))}"))
            summary = {k: v for k, v in summary.items() if k not in ("before", "after")}
        for key, value in sorted(summary.items(), key=lambda item: _key_rank(item[0])):
            if key not in HIDDEN_KEYS and value != "":  # an empty reason says nothing
                lines.append((_key_label(key), self.value(key, value)))
        return lines

    @staticmethod
    def _admin_lines(summary: dict) -> list[tuple[str, str]]:
        from django.contrib.admin.models import LogEntry

        change = summary.get("change")
        message = LogEntry(change_message=json.dumps(change) if isinstance(change, list)
                           else str(change or "")).get_change_message()
        return [(_key_label("change"), message)] if message else []


def person_ids(entries: Iterable[AuditEntry]) -> set[int]:
    """Every person an entry names: its object (a person) and the ids in its summary."""
    found = set()

    def collect(keys, value):
        if isinstance(value, bool):
            return
        if isinstance(value, int):
            found.add(value)
        elif isinstance(value, list):
            for item in value:
                collect(keys, item)
        elif isinstance(value, dict) and set(value) == {"before", "after"}:
            collect(keys, value["before"])
            collect(keys, value["after"])

    for entry in entries:
        if entry.object_type == PERSON_TYPE and entry.object_id.isdigit():
            found.add(int(entry.object_id))
        keys = PERSON_KEYS | PERSON_KEYS_BY_ACTION.get(entry.action, frozenset())
        summary = entry.summary if isinstance(entry.summary, dict) else {}
        for part in (summary, summary.get("before"), summary.get("after")):
            if isinstance(part, dict):
                for key, value in part.items():
                    if key in keys:
                        collect(keys, value)
    return found


# --- rows ---------------------------------------------------------------------------------

@dataclass
class EntryRow:
    """One entry as a page or an export shows it."""

    entry: AuditEntry
    actor: str
    action: str
    object: str
    object_url: str = ""
    summary: list[tuple[str, str]] = field(default_factory=list)

    @property
    def occurred_at(self) -> datetime.datetime:
        return self.entry.occurred_at

    @property
    def summary_text(self) -> str:
        return "; ".join(f"{label}: {text}" for label, text in self.summary)


def entry_rows(entries: list[AuditEntry]) -> list[EntryRow]:
    """The entries (with ``actor`` joined) as rows: one query for the people they name and one
    per kind of object among them (their objects, and the bodies, plans, departments and
    areas their summaries name)."""
    from governance.models import Person

    ids = person_ids(entries)
    people = ({str(p.pk): p for p in Person.objects.filter(pk__in=ids)
               .only("pk", "username", "first_name", "last_name")} if ids else {})
    by_type = defaultdict(set)
    for entry in entries:
        if entry.object_type in shown_objects():
            by_type[entry.object_type].add(entry.object_id)
        summary = entry.summary if isinstance(entry.summary, dict) else {}
        for key, object_type in REFERENCE_KEYS.items():
            value = summary.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                by_type[object_type].add(str(value))
    found = {}
    for object_type, object_ids in by_type.items():
        pks = [pk for pk in object_ids if pk.isdigit()]
        found[object_type] = shown_objects()[object_type].rows()(pks) if pks else {}
    rows = []
    for entry in entries:
        rows.append(EntryRow(entry=entry, actor=_actor(entry),
                             action=action_label(entry.action),
                             summary=_Reader(entry, people, found).lines(),
                             **_object(entry, people, found)))
    return rows


def _actor(entry: AuditEntry) -> str:
    if entry.actor is not None:
        return person_name(entry.actor)
    return _("Årshjul (automatic step)")


def _object(entry: AuditEntry, people: dict, found: dict) -> dict:
    if entry.object_type == PERSON_TYPE:
        person = people.get(entry.object_id)
        name = person_name(person) if person is not None else _("unknown person")
        return {"object": f"{type_label(entry.object_type)}: {name}"}
    shown = shown_objects().get(entry.object_type)
    row = found.get(entry.object_type, {}).get(entry.object_id)
    if shown is None or row is None:
        # Not shown by name, or no longer there (deleted): its kind and id.
        return {"object": f"{type_label(entry.object_type)} #{entry.object_id}"}
    return {"object": f"{type_label(entry.object_type)}: {shown.text(row)}",
            "object_url": shown.url(row) if shown.url else ""}
