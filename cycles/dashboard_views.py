"""The cycle dashboard (årshjul), and the CSV/XLSX exports of its tables and the follow-up list.

``/dashboard/`` shows one organisation's plan of one year: the plan's step on a strip of the
year with its transitions, sign-offs and the follow-up deadlines; follow-up cases per operations
area (a stacked bar per area, overdue in words, the same numbers as a table); the progress
reported per theme; the rollout coverage; and the cases per department of a chosen area.

Who sees what: the organisation must be one the user holds a mandate in (404 otherwise, never
revealing that it exists) and the user's roles there must allow ``cycle.aggregates.view``
(403). Without ``?organisation=`` the first organisation whose aggregates the user may see is
shown (403 when there is none); without ``?year=`` this year's plan, or the newest plan when
there is none for this year.

The number of SQL queries does not depend on the number of departments or cases (see the
query-count test in cycles/tests/test_dashboard.py, which names them).
"""

import datetime
from itertools import groupby

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min, Q
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config import exports
from cycles import selectors
from cycles.follow_up_views import OPEN_STATES, is_overdue
from cycles.models import AnnualPlan, FollowUp, RolloutPlan
from cycles.templatetags.charts import overdue_text
from governance.models import Department, OperationsArea, Organisation
from permissions.matrix import Action
from permissions.selectors import can, visible_organisations

State = FollowUp.State
TEMPLATE = "cycles/dashboard.html"
AREAS, DEPARTMENTS = "areas", "departments"


# --- reading ------------------------------------------------------------------------------

def organisations_with_aggregates(*, user) -> list[Organisation]:
    """The organisations the user holds a mandate in and may see the aggregates of, by name.

    One query for the organisations, then two per organisation for the user's roles there
    (people hold mandates in one or two organisations; superusers: no role queries).
    """
    organisations = list(visible_organisations(user=user))
    if user.is_superuser:
        return organisations
    return [organisation for organisation in organisations
            if can(user=user, action=Action.CYCLE_AGGREGATES_VIEW,
                   organisation_id=organisation.pk)]


def dashboard_organisation(*, user, raw: str | None) -> tuple[Organisation, list[Organisation]]:
    """The organisation asked for (or the default) and those the user may choose from.

    ``Http404`` when the organisation is not one the user holds a mandate in (or not a
    number that names one); ``PermissionDenied`` when the user may not see its aggregates, or,
    without ``raw``, may see no organisation's.
    """
    allowed = organisations_with_aggregates(user=user)
    if raw in (None, ""):
        if not allowed:
            raise PermissionDenied
        return allowed[0], allowed
    if not (raw.isascii() and raw.isdigit()):
        raise Http404
    pk = int(raw)
    chosen = next((organisation for organisation in allowed if organisation.pk == pk), None)
    if chosen is not None:
        return chosen, allowed
    if not visible_organisations(user=user).filter(pk=pk).exists():
        raise Http404
    raise PermissionDenied


def plan_year_events(*, plan: AnnualPlan) -> list[dict]:
    """The plan's transitions and sign-offs and the follow-up deadlines, grouped by day and
    numbered in time order: ``{"number", "day", "kind", "items": [text, ...]}``. Three queries
    (transitions, sign-offs, the deadline of each half)."""
    texts = []
    for transition in plan.transitions.select_related("actor"):
        texts.append((transition.occurred_at, "plan", _("%(state)s, %(who)s") % {
            "state": str(transition.get_to_state_display()).capitalize(),
            "who": transition.actor or _("Årshjul (automatic step)")}))
    for sign_off in selectors.plan_sign_offs(plan=plan):
        texts.append((sign_off.signed_at, "plan", _(
            "Sign-off (%(step)s): %(decision)s, %(signer)s") % {
            "step": sign_off.get_step_display(), "decision": sign_off.get_decision_display(),
            "signer": sign_off.signer}))
    texts.sort(key=lambda entry: entry[0])
    texts = [(timezone.localdate(at), kind, text) for at, kind, text in texts]
    deadlines = (FollowUp.objects.filter(plan=plan).values("half")
                 .annotate(due=Min("due_on")).order_by("due"))
    for row in deadlines:
        texts.append((row["due"], "deadline", _("Follow-up deadline, %(half)s") % {
            "half": FollowUp.Half(row["half"]).label}))
    texts.sort(key=lambda entry: (entry[0], entry[1]))  # stable: the plan's in time order
    events = []
    for (day, kind), entries in groupby(texts, key=lambda entry: (entry[0], entry[1])):
        events.append({"number": len(events) + 1, "day": day, "kind": kind,
                       "items": [text for _day, _kind, text in entries]})
    return events


def rollout_counts(*, plan: AnnualPlan) -> dict:
    """"Presented in N of M departments": one query (the list of the missing departments is
    on the plan's rollout page)."""
    counts = RolloutPlan.objects.filter(plan=plan).aggregate(
        total=Count("pk"), presented=Count("pk", filter=Q(presented_on__isnull=False)))
    total = counts["total"]
    return {**counts, "percent": round(100 * counts["presented"] / total) if total else None}


def department_counts(*, plan: AnnualPlan, area: OperationsArea,
                      today: datetime.date) -> list[dict]:
    """Per department of ``area`` with cases in ``plan``: cases per state and overdue. One
    query (conditional counts grouped by department)."""
    in_plan = Q(follow_ups__plan=plan)
    counts = {f"n_{state.value}": Count("follow_ups", filter=in_plan & Q(
        follow_ups__state=state)) for state in State}
    departments = (Department.objects.filter(operations_area=area)
                   .annotate(**counts, total=Count("follow_ups", filter=in_plan),
                             overdue=Count("follow_ups", filter=in_plan & Q(
                                 follow_ups__due_on__lt=today,
                                 follow_ups__state__in=OPEN_STATES)))
                   .filter(total__gt=0).order_by("number"))
    return [{"department": department,
             "counts": [(state, getattr(department, f"n_{state.value}")) for state in State],
             "total": department.total, "overdue": department.overdue}
            for department in departments]


# --- the page -----------------------------------------------------------------------------

class DashboardForm(forms.Form):
    """The dashboard's choices, read from the query string (a shareable URL)."""

    organisation = forms.TypedChoiceField(label=gettext_lazy("Organisation"), coerce=int,
                                          required=False, empty_value=None)
    year = forms.TypedChoiceField(label=gettext_lazy("Year"), coerce=int, required=False,
                                  empty_value=None)
    area = forms.TypedChoiceField(label=gettext_lazy("Operations area"), coerce=int,
                                  required=False, empty_value=None)
    export = forms.ChoiceField(required=False, choices=[("", "")] + [
        (fmt, fmt) for fmt in exports.FORMATS])
    table = forms.ChoiceField(required=False, choices=[("", ""), (AREAS, AREAS),
                                                       (DEPARTMENTS, DEPARTMENTS)])

    def __init__(self, *args, organisations, years, areas, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [(o.pk, o.name) for o in organisations]
        self.fields["year"].choices = [(year, year) for year in years]
        self.fields["area"].choices = [("", _("Choose an area"))] + [
            (area.pk, str(area)) for area in areas]

    def clean(self):
        data = super().clean()
        if data.get("table") == DEPARTMENTS and not data.get("area"):
            self.add_error("area", _("Choose an operations area to export its departments."))
        return data


def _default_plan(plans: list[AnnualPlan], today: datetime.date) -> AnnualPlan | None:
    """This year's plan, or the newest when there is none for this year."""
    return next((plan for plan in plans if plan.year == today.year), plans[0] if plans else None)


def _area_rows(aggregates: dict) -> list[dict]:
    return [{"label": str(row["area"]), "note": overdue_text(row["overdue"]),
             "segments": [{"key": state.value, "label": str(state.label), "count": count}
                          for state, count in row["counts"]]}
            for row in aggregates["areas"]]


def _theme_rows(aggregates: dict) -> list[dict]:
    return [{"label": f"{row['theme'].number}. {row['theme'].title}",
             "percent": row["progress"]} for row in aggregates["themes"]]


@login_required
def dashboard(request):
    today = timezone.localdate()
    organisation, organisations = dashboard_organisation(
        user=request.user, raw=request.GET.get("organisation"))
    plans = list(selectors.plans_for_user(user=request.user)
                 .filter(organisation=organisation).select_related("programme")
                 .order_by("-year"))
    areas = list(OperationsArea.objects.filter(organisation=organisation).order_by("number"))
    form = DashboardForm(request.GET, organisations=organisations,
                         years=[plan.year for plan in plans], areas=areas)
    context = {"form": form, "organisation": organisation, "organisations": organisations,
               "plans": plans, "today": today}
    if not form.is_valid():
        return render(request, TEMPLATE, context, status=400)
    year = form.cleaned_data["year"]
    plan = (next(plan for plan in plans if plan.year == year) if year
            else _default_plan(plans, today))
    area = next((a for a in areas if a.pk == form.cleaned_data["area"]), None)
    context.update(plan=plan, area=area)
    if plan is None:
        return render(request, TEMPLATE, context)

    export = form.cleaned_data["export"]
    if export:
        return _export_dashboard_table(request, plan=plan, area=area, today=today, fmt=export,
                                       table=form.cleaned_data["table"] or AREAS)
    aggregates = selectors.follow_up_aggregates(plan=plan, today=today)
    events = plan_year_events(plan=plan)
    states = list(AnnualPlan.State)
    step = next(index for index, state in enumerate(states) if state == plan.state)
    context.update({
        "steps": [{"state": state, "done": index < step, "current": index == step}
                  for index, state in enumerate(states)],
        "events": events,
        "events_outside": [event for event in events if event["day"].year != plan.year],
        "year_desc": _year_description(plan=plan, events=events, today=today),
        "aggregates": aggregates,
        "area_rows": _area_rows(aggregates),
        "theme_rows": _theme_rows(aggregates),
        "coverage": rollout_counts(plan=plan),
        "case_areas": [row["area"] for row in aggregates["areas"]],
        "departments": (department_counts(plan=plan, area=area, today=today)
                        if area is not None else None),
    })
    return render(request, TEMPLATE, context)


def _year_description(*, plan: AnnualPlan, events: list[dict], today: datetime.date) -> str:
    parts = [_("Current step: %(state)s.") % {"state": plan.get_state_display()}]
    for event in events:
        parts.append("{}. {}: {}.".format(event["number"], event["day"].strftime("%d.%m.%Y"),
                                          "; ".join(event["items"])))
    if today.year == plan.year:
        parts.append(_("Today is %(day)s.") % {"day": today.strftime("%d.%m.%Y")})
    return " ".join(parts)


# --- exports ------------------------------------------------------------------------------

def _slug(text: str) -> str:
    """A file name part in the page's language (Danish letters kept)."""
    return slugify(text, allow_unicode=True)


def _export_dashboard_table(request, *, plan: AnnualPlan, area, today, fmt: str, table: str):
    """The dashboard's per-area table, or with ``table=departments`` the chosen area's
    department table: the same columns and numbers as on the page. The download is recorded
    in the organisation's audit trail (``export.dashboard``)."""
    from audit.services import export_record

    states = list(State)
    state_headers = [str(state.label).capitalize() for state in states]
    name = plan.organisation.slug
    if table == DEPARTMENTS:
        rows = department_counts(plan=plan, area=area, today=today)
        headers = [_("Department"), *state_headers, _("Total"), _("Overdue")]
        body = [[str(row["department"]), *(count for _state, count in row["counts"]),
                 row["total"], row["overdue"]] for row in rows]
        filename = f"{name}-{plan.year}-{_slug(_('operations area'))}-{area.number}"
    else:
        aggregates = selectors.follow_up_aggregates(plan=plan, today=today)
        headers = [_("Operations area"), *state_headers, _("Total"), _("Overdue"),
                   _("Average progress (%)")]
        body = [[str(row["area"]), *(count for _state, count in row["counts"]), row["total"],
                 row["overdue"], row["progress"]] for row in aggregates["areas"]]
        filename = f"{name}-{plan.year}-{_slug(_('follow-ups per area'))}"
    response = exports.export_response(filename, headers, body, fmt)
    export_record(actor=request.user, what="dashboard", fmt=fmt, filters=request.GET,
                  row_counts={plan.organisation_id: len(body)}, obj=plan)
    return response


def follow_up_list_export(request, *, cases, several_organisations: bool):
    """The follow-up list as a file: every case the filters select (all pages), with the
    list's columns. ``cases`` is the list's queryset, already limited to what the user may see
    and filtered. The download is recorded in the trail of each organisation whose cases it
    holds (``export.follow_ups``)."""
    from collections import Counter

    from audit.services import export_record

    fmt = request.GET.get("export")
    if fmt not in exports.FORMATS:
        return HttpResponseBadRequest(_("Choose CSV or XLSX."))
    today = timezone.localdate()
    headers = [_("Department"), _("Operations area"), _("Half year"), _("Year"), _("Due"),
               _("State"), _("Overdue")]
    if several_organisations:
        headers.insert(0, _("Organisation"))
    rows, per_organisation = [], Counter()
    for case in cases:
        per_organisation[case.department.organisation_id] += 1
        row = [str(case.department), str(case.department.operations_area), case.half,
               case.plan.year, case.due_on, str(case.get_state_display()).capitalize(),
               _("yes") if is_overdue(case, today) else _("no")]
        if several_organisations:
            row.insert(0, case.department.organisation.name)
        rows.append(row)
    response = exports.export_response(_slug(_("follow-ups")), headers, rows, fmt)
    export_record(actor=request.user, what="follow_ups", fmt=fmt, filters=request.GET,
                  row_counts=per_organisation)
    return response
