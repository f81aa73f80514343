"""The e-mail pages: reminder preferences, unsubscribe, the demo outbox, delivery problems.

* ``/preferences/`` (signed in): how reminders come (each / daily / weekly / none), with the
  default explained, the language e-mails come in and a link to the calendar feeds.
* ``/unsubscribe/<token>/`` (public, the signed token is the credential): GET shows a page with
  a button and changes nothing — link checkers and previews open links — and POST stops the
  reminder e-mails. The POST is also RFC 8058's one-click unsubscribe, which a mail program
  sends with the body ``List-Unsubscribe=One-Click`` and no cookies, so the view is exempt from
  CSRF (the token in the address is what a forger would lack). An unknown token is 404.
* ``/outbox/`` (superusers): the e-mails the file backend wrote (the demo's ``var/mail/``),
  newest first; 404 when another backend is configured.
* ``/notifications/problems/`` (``calendar.manage``: the operations secretary): failed and
  interrupted e-mails of their organisations, with "send again" (POST, the same page).
"""

import email
import email.policy
import logging
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from config.errors import Conflict
from cycles.forms import add_service_errors
from notifications.emails import case_long, rung_label
from notifications.forms import PreferenceForm, ResendForm
from notifications.models import Notification, NotificationPreference
from notifications.preferences import (
    notification_get_for_user,
    notification_resend,
    organisations_managing,
    person_for_unsubscribe_token,
    preference_save,
    problems_for_user,
)
from notifications.selectors import default_deliveries

logger = logging.getLogger(__name__)

Delivery = NotificationPreference.Delivery
FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
OUTBOX_PAGE_SIZE = 25
OUTBOX_MAX_FILES = 500
PROBLEMS_PAGE_SIZE = 50


# --- preferences ------------------------------------------------------------------------------

def _default_delivery(person) -> tuple[str, str]:
    """The delivery without a stored choice (notifications.selectors), and why."""
    default = default_deliveries([person.pk], day=timezone.localdate())[person.pk]
    if default == Delivery.DAILY:
        return default, _("the default for staff")
    return default, _("the default for board members")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    person = request.user
    stored = NotificationPreference.objects.filter(person=person).first()
    default, default_reason = _default_delivery(person)
    current = stored.delivery if stored is not None else default
    status = 200
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            try:
                preference_save(actor=person, person=person,
                                delivery=form.cleaned_data["delivery"])
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Saved: %(choice)s.") % {
                    "choice": Delivery(form.cleaned_data["delivery"]).label})
                return redirect("notifications:preferences")
        status = 400
    else:
        form = PreferenceForm(initial={"delivery": current})
    return render(request, "notifications/preferences.html", {
        "form": form,
        "current_label": Delivery(current).label,
        "is_default": stored is None,
        "default_label": Delivery(default).label,
        "default_reason": default_reason,
        "language_label": person.get_language_display(),
        "manages_problems": bool(organisations_managing(user=person)),
        "outbox": person.is_superuser and outbox_dir() is not None,
    }, status=status)


# --- unsubscribe ------------------------------------------------------------------------------

@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    person = person_for_unsubscribe_token(token)
    if person is None:
        raise Http404
    if request.method != "POST":
        return render(request, "notifications/unsubscribe.html", {"done": False})
    actor = request.user if request.user.is_authenticated and request.user.pk == person.pk \
        else None
    preference_save(actor=actor, person=person, delivery=Delivery.NONE, via="unsubscribe")
    return render(request, "notifications/unsubscribe.html", {"done": True})


# --- the demo outbox --------------------------------------------------------------------------

def outbox_dir() -> Path | None:
    """Where the file backend writes e-mails; ``None`` when another backend sends them."""
    config = getattr(settings, "MAILERS", {}).get("default", {})
    if config.get("BACKEND") != FILE_BACKEND:
        return None
    path = (config.get("OPTIONS") or {}).get("file_path")
    return Path(path) if path else None


SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # what the file backend writes after each message


def _read_message(raw: bytes, *, source: str) -> dict | None:
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        date = message["Date"].datetime if message["Date"] is not None else None
        body = message.get_body(preferencelist=("plain",))
        attachments = []
        for part in message.iter_attachments():
            payload = part.get_payload(decode=True) or b""
            attachments.append({"filename": part.get_filename() or "",
                                "content_type": part.get_content_type(),
                                "params": "; ".join(f"{k}={v}" for k, v in part["Content-Type"]
                                                    .params.items() if k != "charset"),
                                "size": len(payload)})
        return {
            "subject": str(message["Subject"] or ""),
            "from": str(message["From"] or ""),
            "to": str(message["To"] or ""),
            "cc": str(message["Cc"] or ""),
            "date": timezone.localtime(date) if date and date.tzinfo else date,
            "message_id": str(message["Message-ID"] or ""),
            "text": body.get_content() if body is not None else "",
            "attachments": attachments,
            "source": source,
        }
    except (ValueError, TypeError, LookupError, AttributeError):
        logger.warning("unreadable message in %s", source, exc_info=True)
        return None


def outbox_messages(directory: Path) -> list[dict]:
    """Every message the file backend wrote (one file per connection, messages separated by
    a line of dashes), newest first."""
    if not directory.is_dir():
        return []
    files = sorted(directory.glob("*.log"), key=lambda p: (p.stat().st_mtime, p.name),
                   reverse=True)[:OUTBOX_MAX_FILES]
    found = []
    for order, path in enumerate(files):
        chunks = [chunk for chunk in path.read_bytes().split(SEPARATOR) if chunk.strip()]
        for index, chunk in enumerate(chunks):
            message = _read_message(chunk, source=path.name)
            if message is not None:
                found.append(((message["date"].timestamp() if message["date"] else 0,
                               -order, index), message))
    found.sort(key=lambda pair: pair[0], reverse=True)
    return [message for _key, message in found]


@login_required
def outbox(request):
    if not request.user.is_superuser:
        raise PermissionDenied
    directory = outbox_dir()
    if directory is None:
        raise Http404(_("E-mails are sent, not written to files: there is no outbox to show."))
    page = Paginator(outbox_messages(directory), OUTBOX_PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "notifications/outbox.html", {"page": page, "directory": directory})


# --- delivery problems ------------------------------------------------------------------------

def _problem_rows(notifications) -> list[Notification]:
    from workflows.selectors import task_step_label

    for notification in notifications:
        task = notification.task
        mandate = getattr(task, "mandate", None) if task is not None else None
        if notification.kind == Notification.Kind.DIGEST:
            notification.what = _("Overview of several reminders")
            notification.case = ""
        else:
            notification.what = task_step_label(task) if task is not None else ""
            notification.case = case_long(mandate)
        notification.rung_text = rung_label(notification.rung)
        notification.resendable = notification.state in (Notification.State.FAILED,
                                                          Notification.State.INTERRUPTED)
    return notifications


def _render_problems(request, organisations, *, status=200, error=None, errors=()):
    ids = [organisation.pk for organisation in organisations]
    page = Paginator(problems_for_user(user=request.user, organisation_ids=ids),
                     PROBLEMS_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _problem_rows(list(page.object_list))
    return render(request, "notifications/problems.html", {
        "page": page,
        "organisations": organisations,
        "error": error,
        "errors": list(errors),
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def problems(request):
    organisations = organisations_managing(user=request.user)
    if not organisations:
        raise PermissionDenied
    if request.method != "POST":
        return _render_problems(request, organisations)
    form = ResendForm(request.POST)
    if not form.is_valid():
        return _render_problems(request, organisations, status=400, errors=[
            message for field_errors in form.errors.values() for message in field_errors])
    notification = notification_get_for_user(
        user=request.user, pk=form.cleaned_data["notification"],
        organisation_ids=[organisation.pk for organisation in organisations])
    try:
        notification_resend(actor=request.user, notification=notification)
    except Conflict as error:
        return _render_problems(request, organisations, status=409, error=error.message)
    messages.success(request, _("The e-mail to %(name)s will be sent again in a moment.") % {
        "name": notification.recipient.get_full_name() or notification.recipient.username})
    return redirect("notifications:problems")
