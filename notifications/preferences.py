"""Reminder preferences, unsubscribe tokens and delivery problems: the writes (services) and
the fetch-and-check reads the preference, unsubscribe and problem pages stand on.

* :func:`preference_save` — how a person wants reminders (each / daily / weekly / none),
  from the preferences page, the unsubscribe link (RFC 8058 one-click included) or the admin;
  audited.
* :func:`notification_resend` — the operations secretary sends a failed or interrupted
  notification again: back to ``pending`` with a compare-and-set on the state it was read in,
  so two clicks (or a delivery worker) never both win; audited.
* :func:`unsubscribe_token` / :func:`person_for_unsubscribe_token` — the signed token in every
  e-mail's ``List-Unsubscribe`` address (it carries the person's id, nothing else).
* :func:`organisations_managing`, :func:`problems_for_user`, :func:`notification_get_for_user` —
  which organisations' delivery problems a user sees (``calendar.manage`` in the matrix: the
  operations secretary), and one notification of them (404 otherwise).
"""

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from config.errors import Conflict
from governance.models import Organisation, Person
from notifications.models import Notification, NotificationPreference
from permissions.matrix import Action

UNSUBSCRIBE_SALT = "notifications.unsubscribe"
RESENDABLE = (Notification.State.FAILED, Notification.State.INTERRUPTED)
PROBLEM_STATES = RESENDABLE


# --- unsubscribe tokens -------------------------------------------------------------------------

def unsubscribe_token(person: Person) -> str:
    """The signed token of ``person``'s unsubscribe address. The same for every e-mail (a
    ``Signer``, not a timestamped one): an address in an old e-mail keeps working."""
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object({"p": person.pk})


def person_for_unsubscribe_token(token: str) -> Person | None:
    """The active person a token names; ``None`` for a forged, mangled or stale token."""
    try:
        data = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    pk = data.get("p") if isinstance(data, dict) else None
    if not isinstance(pk, int):
        return None
    return Person.objects.filter(pk=pk, is_active=True).first()


# --- preferences ------------------------------------------------------------------------------

@transaction.atomic
def preference_save(*, actor: Person | None, person: Person, delivery: str,
                    via: str = "preferences") -> NotificationPreference:
    """Store how ``person`` wants reminders. ``actor`` is the person themself or a superuser
    (``None``: the signed unsubscribe link, where nobody is signed in). ``via`` names the
    path in the audit trail (preferences, unsubscribe, admin)."""
    if actor is not None and actor.pk != person.pk and not actor.is_superuser:
        raise PermissionDenied(_("You can only change your own reminder preferences."))
    if delivery not in NotificationPreference.Delivery.values:
        raise ValidationError({"delivery": _("Choose how you want reminders.")})
    now = timezone.now()
    # get_or_create: of two first choices saved at once, the second finds the first's row.
    preference, created = NotificationPreference.objects.get_or_create(
        person=person, defaults={"delivery": delivery, "updated_at": now})
    before = None
    if not created:
        preference = NotificationPreference.objects.select_for_update().get(pk=preference.pk)
        before = preference.delivery
        if before == delivery:
            return preference  # nothing changed: no audit entry
        preference.delivery = delivery
        preference.updated_at = now
        preference.save(update_fields=["delivery", "updated_at"])
    audit_record(actor=actor, action="notifications.preference_save", obj=preference,
                 summary={"person": person.pk, "before": before, "after": delivery,
                          "via": via})
    return preference


# --- which organisations, which notifications -------------------------------------------------

def organisations_managing(*, user) -> list[Organisation]:
    """The organisations whose delivery problems ``user`` handles (``calendar.manage``: the
    operations secretary), by name; every organisation for a superuser. One query, then the
    role queries per organisation the user holds a mandate in (one or two)."""
    from permissions.selectors import can, visible_organisations

    if not user.is_authenticated:
        return []
    organisations = list(visible_organisations(user=user).order_by("name"))
    if user.is_superuser:
        return organisations
    return [organisation for organisation in organisations
            if can(user=user, action=Action.CALENDAR_MANAGE, organisation_id=organisation.pk)]


def notifications_of(organisation_ids) -> QuerySet[Notification]:
    """Notifications of tasks in these organisations, and digests with such an item."""
    organisation_ids = list(organisation_ids)
    items = Notification.objects.filter(
        digest=OuterRef("pk"), task__mandate__organisation_id__in=organisation_ids)
    return Notification.objects.filter(
        Q(task__mandate__organisation_id__in=organisation_ids)
        | Q(kind=Notification.Kind.DIGEST) & Exists(items))


def problems_for_user(*, user, organisation_ids=None) -> QuerySet[Notification]:
    """The failed and interrupted notifications of the user's organisations (see
    :func:`organisations_managing`), newest first, with what the problems page shows: one
    query. ``organisation_ids`` spares the role queries when the caller has them."""
    if organisation_ids is None:
        organisation_ids = [o.pk for o in organisations_managing(user=user)]
    return (notifications_of(organisation_ids)
            .filter(state__in=PROBLEM_STATES)
            .select_related("recipient", "copy_to", "task__mandate__plan",
                            "task__mandate__follow_up__department",
                            "task__mandate__follow_up__plan", "task__mandate__organisation")
            .order_by("-created_at", "-pk"))


def notification_get_for_user(*, user, pk: int, organisation_ids=None) -> Notification:
    """One notification of the user's organisations, in any state; 404 for any other."""
    if organisation_ids is None:
        organisation_ids = [o.pk for o in organisations_managing(user=user)]
    notification = (notifications_of(organisation_ids).filter(pk=pk)
                    .select_related("recipient").first())
    if notification is None:
        raise Http404
    return notification


def _organisation_of(notification: Notification) -> Organisation | None:
    """The organisation a notification belongs to: its task's, or a digest's first item's."""
    from workflows.models import TaskMandate

    if notification.task_id is not None:
        tasks = [notification.task_id]
    else:
        tasks = Notification.objects.filter(digest_id=notification.pk,
                                            task__isnull=False).values("task_id")
    mandate = (TaskMandate.objects.filter(task_id__in=tasks).select_related("organisation")
               .order_by("task_id").first())
    return mandate.organisation if mandate is not None else None


def state_label(state: str) -> str:
    return str(Notification.State(state).label)


# --- send again -------------------------------------------------------------------------------

@transaction.atomic
def notification_resend(*, actor: Person, notification: Notification) -> Notification:
    """Send a failed or interrupted notification again: ``pending`` now, its attempts kept
    (the worker counts on from them). Any other state answers 409 naming it.

    The operations secretary of the notification's organisation (or a superuser) may do it.
    An interrupted e-mail may already have arrived: resending is the secretary's call, never
    the worker's.
    """
    organisation = _organisation_of(notification)
    if not actor.is_superuser:
        from permissions.selectors import can

        if organisation is None or not can(user=actor, action=Action.CALENDAR_MANAGE,
                                           organisation_id=organisation.pk):
            raise PermissionDenied(_("Only the operations secretary can send an e-mail again."))
    current = (Notification.objects.filter(pk=notification.pk)
               .values_list("state", "attempts").first())
    if current is None:
        raise Http404
    old, attempts = current
    if old not in RESENDABLE:
        raise Conflict(_("The e-mail is “%(state)s”: only a failed or interrupted e-mail can be "
                         "sent again.") % {"state": state_label(old)}, current_state=old,
                       current_state_label=state_label(old))
    now = timezone.now()
    # Compare-and-set: a second click, or anything else that moved the row, loses here.
    if Notification.objects.filter(pk=notification.pk, state=old).update(
            state=Notification.State.PENDING, next_attempt_at=now, claimed_at=None) != 1:
        new = Notification.objects.filter(pk=notification.pk).values_list(
            "state", flat=True).first() or old
        raise Conflict(_("The e-mail is “%(state)s” now: someone else changed it first.")
                       % {"state": state_label(new)}, current_state=new,
                       current_state_label=state_label(new))
    audit_record(actor=actor, action="notifications.resend", obj=notification,
                 organisation=organisation,
                 summary={"from": old, "to": Notification.State.PENDING.value,
                          "attempts": attempts, "recipient": notification.recipient_id,
                          "key": notification.key})
    notification.refresh_from_db()
    return notification
