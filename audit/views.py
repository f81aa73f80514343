"""History pages (a plan's, a follow-up's, a person's) and an organisation's whole audit trail
with its chain check and its export. The selectors decide who sees what; these only show."""

import datetime
import json

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _

from audit import selectors
from audit.chain import chain_of
from audit.display import entry_rows
from audit.forms import EXPORT_FORMATS, AuditFilterForm
from audit.models import AuditChain
from audit.services import audit_export_record, export_filters
from config import exports
from cycles.selectors import follow_up_get_for_user, plan_get_for_user
from governance.models import Organisation

JSONL_FORMAT = "aarshjul-audit-jsonl/1"
EXPORT_CHUNK = 500


def _history(request, *, template: str = "audit/history.html", entries, **context):
    page = selectors.audit_page(entries=entries, number=request.GET.get("page"))
    return render(request, template, {"page": page, **context})


@login_required
def plan_history(request, pk: int):
    plan = plan_get_for_user(user=request.user, pk=pk)
    return _history(request, entries=selectors.audit_entries_for_object(obj=plan),
                    title=_("History of %(plan)s") % {"plan": plan.title},
                    back_url=reverse("cycles:plan_detail", args=[plan.pk]), back=plan.title)


@login_required
def follow_up_history(request, pk: int):
    follow_up = follow_up_get_for_user(user=request.user, pk=pk)
    return _history(request, entries=selectors.audit_entries_for_object(obj=follow_up),
                    title=_("History of the follow-up %(follow_up)s") % {
                        "follow_up": follow_up},
                    back_url=reverse("cycles:follow_up_detail", args=[follow_up.pk]),
                    back=str(follow_up))


@login_required
def person_history(request, pk: int):
    person, organisation_ids = selectors.audit_person_get_for_user(user=request.user, pk=pk)
    own = person.pk == request.user.pk
    name = person.get_full_name() or person.username
    return _history(
        request, template="audit/person_history.html",
        entries=selectors.audit_entries_for_person(person=person,
                                                   organisation_ids=organisation_ids),
        title=_("My history") if own else _("History of %(person)s") % {"person": name},
        person=person, own=own,
        limited_to=(list(Organisation.objects.filter(pk__in=organisation_ids)
                         .order_by("name")) if organisation_ids is not None else None),
        trails=selectors.audit_organisations_for_user(user=request.user) if own else [])


@login_required
def organisation_audit(request, pk: int):
    """The organisation's whole trail, filtered, with the chain's check; ``?export=csv``,
    ``xlsx`` or ``jsonl`` downloads every entry the filters select (all pages)."""
    organisation = selectors.audit_organisation_get_for_user(user=request.user, pk=pk)
    params = request.GET.copy()
    fmt = params.pop("export", [""])[-1]
    form = AuditFilterForm(params, organisation=organisation)
    context = {"organisation": organisation, "form": form}
    if not form.is_valid() or (fmt and fmt not in EXPORT_FORMATS):
        if fmt and fmt not in EXPORT_FORMATS:
            context["error"] = _("Choose CSV, XLSX or JSON lines.")
        return render(request, "audit/organisation_audit.html", context, status=400)
    entries = selectors.audit_entries_for_organisation(organisation=organisation,
                                                       **form.selector_arguments())
    if fmt:
        return _export(request, organisation=organisation, entries=entries, fmt=fmt,
                       filters=params)
    context.update(page=selectors.audit_page(entries=entries, number=request.GET.get("page")),
                   status=selectors.audit_chain_status(organisation=organisation))
    return render(request, "audit/organisation_audit.html", context)


# --- the export ---------------------------------------------------------------------------

def _export(request, *, organisation, entries, fmt: str, filters):
    """The file, then its own audit entry (``audit.export``, which the file does not hold).
    Only entries up to the chain's head as read first: a consistent cut of the trail."""
    head = AuditChain.objects.filter(chain=chain_of(organisation.pk)).first()
    head_sequence = head.sequence if head else 0
    entries = entries.filter(sequence__lte=head_sequence).order_by("sequence")
    counted = [0]
    if fmt == "jsonl":
        response = _jsonl(organisation=organisation, entries=entries, head=head,
                          filters=filters, counted=counted)
    else:
        headers = [_("Time"), _("No."), _("Who"), _("Acting as"), _("What happened"),
                   _("Action code"), _("About"), _("Details"), _("Request id"), _("Hash")]
        response = exports.export_response(_filename(organisation), headers,
                                           _rows(entries, counted), fmt)
    audit_export_record(actor=request.user, organisation=organisation, fmt=fmt,
                        filters=filters, rows=counted[0], head_sequence=head_sequence)
    return response


def _filename(organisation) -> str:
    return f"{organisation.slug}-{slugify(_('audit trail'), allow_unicode=True)}"


def _chunks(entries):
    """The entries in chunks (a fixed number of queries per chunk, not per entry)."""
    last = 0
    while True:
        chunk = list(entries.filter(sequence__gt=last)[:EXPORT_CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].sequence


def _rows(entries, counted):
    for chunk in _chunks(entries):
        for row in entry_rows(chunk):
            counted[0] += 1
            entry = row.entry
            yield [entry.occurred_at, entry.sequence, row.actor, entry.acting_as, row.action,
                   entry.action, row.object, row.summary_text, entry.request_id,
                   entry.entry_hash]


def _jsonl(*, organisation, entries, head, filters, counted) -> HttpResponse:
    """One JSON object per line: first the chain (its head when exported, the filters), then
    each entry exactly as hashed, with its previous hash and its own (docs/security.md says
    how to check them)."""
    lines = [json.dumps({
        "type": "chain", "format": JSONL_FORMAT, "chain": chain_of(organisation.pk),
        "organisation": organisation.pk,
        "exported_at": timezone.now().astimezone(datetime.UTC).isoformat(),
        "filters": export_filters(filters),
        "head": {"sequence": head.sequence if head else 0,
                 "hash": head.last_hash if head else ""},
    }, ensure_ascii=False, sort_keys=True)]
    for chunk in _chunks(entries):
        for entry in chunk:
            counted[0] += 1
            lines.append(json.dumps({
                "type": "entry", "sequence": entry.sequence,
                "previous_hash": entry.previous_hash, "entry_hash": entry.entry_hash,
                "content": entry.content()}, ensure_ascii=False, sort_keys=True))
    response = HttpResponse(("\n".join(lines) + "\n").encode("utf-8"),
                            content_type="application/jsonl; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{_filename(organisation)}.jsonl")
    return response
