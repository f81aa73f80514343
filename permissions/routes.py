"""Every URL of the project and what guards it: the matrix applied to routes.

Each named URL pattern has exactly one :class:`Guard`. ``tests/test_route_permissions.py``
walks the project's resolver and fails on a pattern without an entry here, then requests every
guarded route as every demo persona against objects of their own department, another
department and another organisation, and checks the answer the matrix predicts:

* not visible (no role that may see the object) → 404, never revealing that it exists;
* visible, but no role that may take the route's action → 403;
* allowed → anything but 403/404/5xx (400 for an empty form, 409 for the wrong state).

viewflow's own views (its process and task pages) are deliberately **not mounted**: their stock
permission checks rely on a model-wide view permission that would open every process of a flow.
All human work goes through the pages below, which check object permission. The route test
fails if a viewflow view ever appears in the URL configuration.
"""

from dataclasses import dataclass
from enum import StrEnum

from permissions.matrix import RETURN_ACTION_BY_STATE, SIGN_ACTION_BY_STATE, Action


class Access(StrEnum):
    PUBLIC = "public"  # anyone; login, logout, language, API schema and docs
    LOGIN = "login"  # any signed-in person; lists show only what they may see
    ADMIN = "admin"  # Django's admin site: staff users only
    OBJECT = "object"  # the object in the URL: visible by its view action, then `actions`
    BODY_CHAIR = "body_chair"  # only the chair of the body in the URL
    ANY_ORGANISATION = "any_organisation"  # one of `actions` in some organisation, else 403
    # Tasks, delegations and saved filters are not matrix objects: a named rule decides
    # (`Guard.rule`, see TASK_RULES below and workflows.selectors / services).
    RULE = "rule"


class Target(StrEnum):
    """What the URL's ``pk`` (or ``body_pk``) names."""

    ORGANISATION = "organisation"
    OPERATIONS_AREA = "operations_area"
    DEPARTMENT = "department"
    BODY = "body"
    MEMBERSHIP = "membership"
    PLAN = "plan"
    INITIATIVE = "initiative"
    FOLLOW_UP = "follow_up"
    ROLLOUT = "rollout"
    TASK = "task"
    DELEGATION = "delegation"
    SAVED_FILTER = "saved_filter"
    MEETING = "meeting"
    CALENDAR_FEED = "calendar_feed"
    PERSON = "person"


# The action that makes each kind of object visible at all.
VIEW_ACTION: dict[Target, Action] = {
    Target.ORGANISATION: Action.ORGANISATION_VIEW,
    Target.OPERATIONS_AREA: Action.ORGANISATION_VIEW,
    Target.DEPARTMENT: Action.ORGANISATION_VIEW,
    Target.BODY: Action.ORGANISATION_VIEW,
    Target.MEMBERSHIP: Action.ORGANISATION_VIEW,
    Target.PLAN: Action.PLAN_VIEW,
    Target.INITIATIVE: Action.PLAN_VIEW,
    Target.FOLLOW_UP: Action.FOLLOW_UP_VIEW,
    Target.ROLLOUT: Action.ROLLOUT_VIEW,
    Target.MEETING: Action.ORGANISATION_VIEW,  # everyone with a mandate sees the calendar
}
DEPARTMENT_TARGETS = frozenset({Target.FOLLOW_UP, Target.ROLLOUT})


@dataclass(frozen=True)
class Guard:
    access: Access
    target: Target | None = None
    # Any one of these allows the route (the object's state picks which one applies).
    actions: tuple[Action, ...] = ()
    method: str = "GET"
    # Further methods of the same URL and the actions they need (e.g. a form page's POST).
    also: tuple[tuple[str, tuple[Action, ...]], ...] = ()
    # For Access.RULE: which rule decides (see RULES).
    rule: str = ""

    def checks(self) -> list[tuple[str, tuple[Action, ...]]]:
        return [(self.method, self.actions), *self.also]


PUBLIC = Guard(Access.PUBLIC)
LOGIN = Guard(Access.LOGIN)


def view(target: Target) -> Guard:
    return Guard(Access.OBJECT, target, (VIEW_ACTION[target],))


def act(target: Target, *actions: Action, method: str = "POST") -> Guard:
    return Guard(Access.OBJECT, target, actions, method)


def form(target: Target, *actions: Action) -> Guard:
    """A page with a form: GET shows it, POST sends it; both need ``actions``."""
    return Guard(Access.OBJECT, target, actions, "GET", also=(("POST", actions),))


def rule(target: Target, name: str, method: str = "POST") -> Guard:
    return Guard(Access.RULE, target, (), method, rule=name)


# The rules for objects outside the matrix. Visibility first (404 otherwise), then the rule
# (403 otherwise):
RULES = {
    # a task is visible to its owner, the members of its candidate groups, the person a
    # substitute holds it for, and whoever may reassign it (workflows.selectors.task_get_for_user)
    "task.view": "visible",
    "task.claim": "a member of one of its candidate groups",
    "task.owner": "its owner (release, snooze)",
    "task.reassign": "the operations secretary, or the chair of the task's body",
    # a delegation is visible to the delegator, the substitute, its creator and the operations
    # secretary; only the delegator and the secretary cancel it
    "delegation.cancel": "the delegator or the operations secretary",
    # a saved filter is its owner's only
    "saved_filter.owner": "its owner",
    # a calendar address is its owner's only (notifications.calendar.calendar_feed_get_for_user)
    "calendar_feed.owner": "its owner",
    # a person's history is visible to the person, and to whoever may read the audit trail
    # (audit.view) of an organisation the person holds or held a mandate in — then only that
    # organisation's entries (audit.selectors.audit_person_get_for_user); 404 for anyone else
    "person.history": "visible",
}

PLAN, INITIATIVE = Target.PLAN, Target.INITIATIVE
TASK, DELEGATION = Target.TASK, Target.DELEGATION
FOLLOW_UP, ROLLOUT = Target.FOLLOW_UP, Target.ROLLOUT
RETURNS = tuple(RETURN_ACTION_BY_STATE.values())
SIGNS = tuple(SIGN_ACTION_BY_STATE.values())

# Named patterns; the admin site's patterns are covered by the namespace rule below.
ROUTES: dict[str, Guard] = {
    # Site
    "home": LOGIN,
    "login": PUBLIC,
    "logout": PUBLIC,
    "password_change": LOGIN,
    "password_change_done": LOGIN,
    "set_language": PUBLIC,
    "signing_authorisation": Guard(Access.BODY_CHAIR, Target.BODY),
    # Two-factor: always the signed-in person's own authenticator and recovery codes; the
    # sign-off pages and API steps ask for it where an organisation requires it
    # (cycles.two_factor, governance.two_factor).
    "two_factor:status": LOGIN,
    "two_factor:setup": Guard(Access.LOGIN, method="POST"),
    "two_factor:confirm": Guard(Access.LOGIN, method="POST"),
    "two_factor:verify": Guard(Access.LOGIN, also=(("POST", ()),)),
    "two_factor:recovery_codes": Guard(Access.LOGIN, method="POST"),
    "two_factor:disable": Guard(Access.LOGIN, also=(("POST", ()),)),
    # Plans (HTML)
    "cycles:plan_list": LOGIN,
    # The form offers only the organisations the user may plan for.
    "cycles:plan_create": Guard(Access.ANY_ORGANISATION, actions=(Action.PLAN_EDIT,)),
    "cycles:plan_detail": view(PLAN),
    "cycles:plan_edit": form(PLAN, Action.PLAN_EDIT),
    "cycles:initiative_create": form(PLAN, Action.PLAN_EDIT),
    "cycles:initiative_edit": form(PLAN, Action.PLAN_EDIT),
    "cycles:initiative_delete": act(PLAN, Action.PLAN_EDIT),
    "cycles:theme_justification": form(PLAN, Action.PLAN_EDIT),
    "cycles:plan_submit": act(PLAN, Action.PLAN_EDIT),
    "cycles:plan_comment": act(PLAN, Action.PLAN_COMMENT),
    "cycles:plan_close_review": form(PLAN, Action.PLAN_CLOSE_REVIEW),
    "cycles:plan_return": form(PLAN, *RETURNS),
    "cycles:plan_sign": form(PLAN, *SIGNS),
    "cycles:plan_publish": act(PLAN, Action.PLAN_PUBLISH),
    "cycles:plan_presentation": form(PLAN, Action.PLAN_REGISTER_PRESENTATION),
    "cycles:plan_evaluate": form(PLAN, Action.PLAN_EVALUATE),
    "cycles:revision_list": view(PLAN),
    "cycles:revision_diff": view(PLAN),
    # Plans: the bodies' figures
    "cycles:plan_coverage": act(PLAN, Action.CYCLE_AGGREGATES_VIEW, method="GET"),
    "cycles:plan_aggregates": act(PLAN, Action.CYCLE_AGGREGATES_VIEW, method="GET"),
    # Follow-ups and rollout plans (HTML)
    "cycles:follow_up_list": LOGIN,
    "cycles:follow_up_detail": view(FOLLOW_UP),
    "cycles:follow_up_save": act(FOLLOW_UP, Action.FOLLOW_UP_PREPARE),
    "cycles:follow_up_mark_ready": act(FOLLOW_UP, Action.FOLLOW_UP_PREPARE),
    "cycles:follow_up_return": act(FOLLOW_UP, Action.FOLLOW_UP_RETURN),
    "cycles:follow_up_acknowledge": act(FOLLOW_UP, Action.FOLLOW_UP_ACKNOWLEDGE),
    "cycles:follow_up_board_remark": act(FOLLOW_UP, Action.FOLLOW_UP_BOARD_REMARK),
    "cycles:follow_up_board_remark_answer": act(FOLLOW_UP, Action.FOLLOW_UP_ANSWER),
    "cycles:follow_up_close": act(FOLLOW_UP, Action.FOLLOW_UP_CLOSE),
    "cycles:rollout_list": LOGIN,
    "cycles:rollout_detail": view(ROLLOUT),
    "cycles:rollout_presentation": act(ROLLOUT, Action.ROLLOUT_REGISTER_PRESENTATION),
    # The cycle dashboard
    "cycles:dashboard": Guard(Access.ANY_ORGANISATION, actions=(Action.CYCLE_AGGREGATES_VIEW,)),
    # The governance calendar (every organisation the user holds a mandate in) and the
    # operations secretary's meetings, step deadlines and reminder ladders
    "cycles:meeting_list": LOGIN,
    "cycles:meeting_create": Guard(Access.ANY_ORGANISATION, actions=(Action.CALENDAR_MANAGE,),
                                   also=(("POST", (Action.CALENDAR_MANAGE,)),)),
    "cycles:meeting_edit": form(Target.MEETING, Action.CALENDAR_MANAGE),
    "cycles:meeting_cancel": form(Target.MEETING, Action.CALENDAR_MANAGE),
    "cycles:deadline_settings": Guard(Access.ANY_ORGANISATION,
                                      actions=(Action.CALENDAR_MANAGE,),
                                      also=(("POST", (Action.CALENDAR_MANAGE,)),)),
    # Inbox (HTML): the landing page ("home") lists only the user's own and queue tasks
    "workflows:task_detail": rule(TASK, "task.view", method="GET"),
    "workflows:task_claim": rule(TASK, "task.claim"),
    "workflows:task_release": rule(TASK, "task.owner"),
    "workflows:task_snooze": rule(TASK, "task.owner"),
    "workflows:task_comment": rule(TASK, "task.view"),
    "workflows:task_reassign": rule(TASK, "task.reassign"),
    "workflows:task_bulk": LOGIN,  # each selected task goes through its own rule
    "workflows:saved_filter_save": LOGIN,
    "workflows:saved_filter_delete": rule(Target.SAVED_FILTER, "saved_filter.owner"),
    "workflows:delegation_list": LOGIN,
    "workflows:delegation_cancel": rule(DELEGATION, "delegation.cancel"),
    # Calendar feeds: the page lists only the user's own addresses; revoking asks to confirm
    # (GET) and then revokes (POST). The feed itself is public: its secret token is the only
    # credential (unknown, revoked or no longer permitted → 404; notifications.calendar).
    "notifications:calendar": LOGIN,
    "notifications:calendar_feed_create": Guard(Access.LOGIN, method="POST"),
    "notifications:calendar_feed_revoke": Guard(
        Access.RULE, Target.CALENDAR_FEED, (), "GET", also=(("POST", ()),),
        rule="calendar_feed.owner"),
    "notifications:calendar_feed": PUBLIC,
    # Reminder e-mails: my preferences; the unsubscribe address of every e-mail (public: the
    # signed token is the credential; GET only asks, POST — also RFC 8058 one-click — acts);
    # the demo outbox (superusers; 404 unless the file backend is configured); the operations
    # secretary's delivery problems with "send again" (POST, the same page)
    "notifications:preferences": Guard(Access.LOGIN, also=(("POST", ()),)),
    "notifications:unsubscribe": PUBLIC,
    "notifications:outbox": Guard(Access.ADMIN),
    "notifications:problems": Guard(Access.ANY_ORGANISATION, actions=(Action.CALENDAR_MANAGE,),
                                    also=(("POST", (Action.CALENDAR_MANAGE,)),)),
    # Personal data: my own, explained (GET) and downloaded as JSON (POST, audited)
    "privacy:my_data": Guard(Access.LOGIN, also=(("POST", ()),)),
    # History pages and the audit trail (audit/urls.py): a plan's and a case's history for
    # whoever may see them; a person's for themself and the operations secretary; the whole
    # trail of an organisation, its chain check and its export (?export=csv|xlsx|jsonl, the
    # same URL) for the operations secretary
    "audit:plan_history": view(PLAN),
    "audit:follow_up_history": view(FOLLOW_UP),
    "audit:person_history": rule(Target.PERSON, "person.history", method="GET"),
    "audit:organisation_audit": act(Target.ORGANISATION, Action.AUDIT_VIEW, method="GET"),
    # API: session and token
    "v1:api-root": LOGIN,
    "v1:api-token": PUBLIC,
    "v1:api-me": LOGIN,
    "api-schema": PUBLIC,
    "api-docs": PUBLIC,
    # API: governance (read-only, scoped to the caller's organisations)
    "v1:organisation-list": LOGIN,
    "v1:organisation-detail": view(Target.ORGANISATION),
    "v1:operations-area-list": LOGIN,
    "v1:operations-area-detail": view(Target.OPERATIONS_AREA),
    "v1:department-list": LOGIN,
    "v1:department-detail": view(Target.DEPARTMENT),
    "v1:body-list": LOGIN,
    "v1:body-detail": view(Target.BODY),
    "v1:membership-list": LOGIN,
    "v1:membership-detail": view(Target.MEMBERSHIP),
    # API: plans
    "v1:plan-list": LOGIN,
    "v1:plan-detail": view(PLAN),
    "v1:plan-initiatives": act(PLAN, Action.PLAN_EDIT),
    "v1:plan-comments": view(PLAN),
    "v1:plan-transitions": view(PLAN),
    "v1:plan-sign-offs": view(PLAN),
    "v1:plan-revisions": view(PLAN),
    "v1:plan-revision": view(PLAN),
    "v1:plan-diff": view(PLAN),
    "v1:plan-submit": act(PLAN, Action.PLAN_EDIT),
    "v1:plan-theme-justification": act(PLAN, Action.PLAN_EDIT),
    "v1:plan-comment": act(PLAN, Action.PLAN_COMMENT),
    "v1:plan-close-review": act(PLAN, Action.PLAN_CLOSE_REVIEW),
    "v1:plan-return-to-draft": act(PLAN, *RETURNS),
    "v1:plan-recommend": act(PLAN, Action.PLAN_SIGN_COMMITTEE),
    "v1:plan-sign": act(PLAN, *SIGNS),
    "v1:plan-publish": act(PLAN, Action.PLAN_PUBLISH),
    "v1:plan-register-presentation": act(PLAN, Action.PLAN_REGISTER_PRESENTATION),
    "v1:plan-evaluate": act(PLAN, Action.PLAN_EVALUATE),
    # API: the inbox, the queue and delegations
    "v1:task-list": LOGIN,
    "v1:task-counts": LOGIN,
    "v1:task-detail": rule(TASK, "task.view", method="GET"),
    "v1:task-claim": rule(TASK, "task.claim"),
    "v1:task-release": rule(TASK, "task.owner"),
    "v1:task-snooze": rule(TASK, "task.owner"),
    "v1:task-comments": rule(TASK, "task.view"),
    "v1:task-reassign": rule(TASK, "task.reassign"),
    "v1:delegation-list": LOGIN,
    "v1:delegation-cancel": rule(DELEGATION, "delegation.cancel"),
    # API: rollout plans and follow-ups
    "v1:follow-up-list": LOGIN,
    "v1:follow-up-detail": view(FOLLOW_UP),
    "v1:follow-up-save": act(FOLLOW_UP, Action.FOLLOW_UP_PREPARE),
    "v1:follow-up-mark-ready": act(FOLLOW_UP, Action.FOLLOW_UP_PREPARE),
    "v1:follow-up-return": act(FOLLOW_UP, Action.FOLLOW_UP_RETURN),
    "v1:follow-up-acknowledge": act(FOLLOW_UP, Action.FOLLOW_UP_ACKNOWLEDGE),
    "v1:follow-up-board-remarks": act(FOLLOW_UP, Action.FOLLOW_UP_BOARD_REMARK),
    "v1:follow-up-board-remark-answer": act(FOLLOW_UP, Action.FOLLOW_UP_ANSWER),
    "v1:follow-up-close": act(FOLLOW_UP, Action.FOLLOW_UP_CLOSE),
    "v1:rollout-list": LOGIN,
    "v1:rollout-detail": view(ROLLOUT),
    "v1:rollout-register-presentation": act(ROLLOUT, Action.ROLLOUT_REGISTER_PRESENTATION),
    "v1:plan-coverage": act(PLAN, Action.CYCLE_AGGREGATES_VIEW, method="GET"),
    "v1:plan-aggregates": act(PLAN, Action.CYCLE_AGGREGATES_VIEW, method="GET"),
    "v1:initiative-detail": Guard(Access.OBJECT, INITIATIVE, (Action.PLAN_VIEW,), also=(
        ("PATCH", (Action.PLAN_EDIT,)), ("DELETE", (Action.PLAN_EDIT,)))),
}

# Whole namespaces with one rule.
NAMESPACES: dict[str, Guard] = {
    "admin": Guard(Access.ADMIN),
}

# Unnamed patterns by the view module that serves them (DEBUG only).
UNNAMED_BY_MODULE: dict[str, Guard] = {
    "django.contrib.staticfiles.views": PUBLIC,
}


def guard_for(name: str | None, namespace: str | None, module: str) -> Guard | None:
    """The guard of a pattern; ``None`` when it has none (a test failure)."""
    if namespace and namespace.split(":")[0] in NAMESPACES:
        return NAMESPACES[namespace.split(":")[0]]
    if name is None:
        return UNNAMED_BY_MODULE.get(module)
    full = f"{namespace}:{name}" if namespace else name
    return ROUTES.get(full)
