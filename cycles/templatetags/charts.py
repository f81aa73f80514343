"""Server-side SVG charts for the dashboard (årshjul), and whether the menu links to it.

Charts are plain SVG written by templates (``cycles/dashboard_chart_*.html``) from geometry
computed here: no JavaScript, no third-party requests. Each chart is an image with a name and a
description in words (``role="img"``, ``<title>`` and ``<desc>`` joined by
``aria-labelledby``); the numbers are also written as text beside or inside the bars, and every
page that shows a chart shows the same numbers in a table. Colours never carry meaning alone:
segments are in a fixed order, carry their count in text, and are named in a legend.

Horizontal positions are percentages of the chart's width (the text keeps its size on narrow
screens); vertical positions are pixels.

``dashboard_in_menu`` answers "may this person see the dashboard?" for the main menu, cached
in the session for a few minutes like ``follow_ups_in_menu`` (cycles/templatetags/follow_ups.py),
so an ordinary page costs no query for it. The dashboard itself always checks anew.
"""

import datetime
import time
from collections.abc import Sequence

from django import template
from django.utils.dates import MONTHS_3
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cycles.models import FollowUp
from permissions.matrix import Action

register = template.Library()

# Fill and text colour per follow-up state, in the order the states are walked. Every fill has
# a contrast of at least 4.5:1 with white (the text on it and the page behind it); see
# cycles/tests/test_dashboard.py.
STATE_COLOURS: dict[str, tuple[str, str]] = {
    FollowUp.State.SCHEDULED: ("#5f6b78", "#ffffff"),
    FollowUp.State.IN_PREPARATION: ("#8a3b12", "#ffffff"),
    FollowUp.State.READY_FOR_BOARD: ("#6d4c9f", "#ffffff"),
    FollowUp.State.PRESENTED: ("#1f6f50", "#ffffff"),
    FollowUp.State.CLOSED: ("#0b4f6c", "#ffffff"),
}
FALLBACK_COLOURS = ("#1b1f24", "#ffffff")

# Stacked and percentage bars: a row per item, its label above its bar.
ROW_HEIGHT = 54  # px
LABEL_Y = 16
BAR_Y = 22
BAR_HEIGHT = 22
BAR_X = 0.0  # % of the chart's width
BAR_WIDTH = 78.0
MIN_LABELLED_SEGMENT = 4.0  # % of the chart's width: narrower segments carry no number
# The year strip.
STRIP_HEIGHT = 96
MONTH_Y = 22
MONTH_HEIGHT = 30
MARK_Y = 74
MARK_RADIUS = 10


# --- contrast (WCAG 2.1) ----------------------------------------------------------------------

def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    red, green, blue = (int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)),
                             reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


# --- geometry ---------------------------------------------------------------------------------

def _pct(value: float) -> str:
    return f"{value:.2f}%"


def stacked_bars(rows: Sequence[dict]) -> dict:
    """Geometry of a 100 % stacked bar per row.

    ``rows``: ``{"label", "segments": [{"key", "label", "count"}], "note"}``; segments in the
    order they are drawn, ``note`` the text right of the bar (e.g. "2 overdue").
    """
    drawn = []
    for index, row in enumerate(rows):
        total = sum(segment["count"] for segment in row["segments"])
        x, segments = BAR_X, []
        for segment in row["segments"]:
            if not segment["count"]:
                continue
            width = BAR_WIDTH * segment["count"] / total
            fill, ink = STATE_COLOURS.get(segment["key"], FALLBACK_COLOURS)
            segments.append({
                **segment, "x": _pct(x), "width": _pct(width), "fill": fill, "ink": ink,
                "text_x": _pct(x + width / 2), "labelled": width >= MIN_LABELLED_SEGMENT,
            })
            x += width
        drawn.append({**row, "total": total, "segments": segments,
                      "y": index * ROW_HEIGHT})
    return {"rows": drawn, "height": max(len(drawn), 1) * ROW_HEIGHT}


def percent_bars(rows: Sequence[dict]) -> dict:
    """Geometry of a bar per row for a percentage: ``rows`` are ``{"label", "percent"}``, the
    percentage ``None`` when there is nothing to measure yet."""
    drawn = []
    for index, row in enumerate(rows):
        percent = row["percent"]
        width = BAR_WIDTH * min(max(percent or 0, 0), 100) / 100
        drawn.append({**row, "y": index * ROW_HEIGHT, "width": _pct(width)})
    return {"rows": drawn, "height": max(len(drawn), 1) * ROW_HEIGHT}


def _year_fraction(day: datetime.date) -> float:
    start = datetime.date(day.year, 1, 1)
    days = (datetime.date(day.year + 1, 1, 1) - start).days
    return (day - start).days / days


def year_strip(*, year: int, marks: Sequence[dict], today: datetime.date | None) -> dict:
    """Geometry of a year as twelve months with numbered marks and today.

    ``marks``: ``{"day", "number", "kind"}``; marks outside ``year`` are left out of the
    strip (the text list beside it still names them); ``today`` is drawn only inside ``year``.
    """
    months = []
    for month in range(1, 13):
        start = _year_fraction(datetime.date(year, month, 1)) * 100
        end = 100.0 if month == 12 else _year_fraction(datetime.date(year, month + 1, 1)) * 100
        months.append({"name": capfirst(str(MONTHS_3[month])), "x": _pct(start),
                       "width": _pct(end - start), "text_x": _pct((start + end) / 2),
                       "shaded": month % 2 == 0})
    drawn = [{**mark, "x": _pct(_year_fraction(mark["day"]) * 100)}
             for mark in marks if mark["day"].year == year]
    return {
        "months": months,
        "marks": drawn,
        "today": ({"x": _pct(_year_fraction(today) * 100), "day": today}
                  if today is not None and today.year == year else None),
        "height": STRIP_HEIGHT,
    }


# --- descriptions in words --------------------------------------------------------------------

def stacked_description(rows: Sequence[dict]) -> str:
    parts = []
    for row in rows:
        counts = ", ".join(f"{segment['count']} {segment['label']}"
                           for segment in row["segments"] if segment["count"])
        text = f"{row['label']}: {counts or _('no cases')}"
        parts.append(f"{text}; {row['note']}" if row.get("note") else text)
    return ". ".join(parts) + "." if parts else _("No cases.")


def percent_text(percent: int | None) -> str:
    return _("not reported yet") if percent is None else f"{percent} %"


def percent_description(rows: Sequence[dict]) -> str:
    parts = [f"{row['label']}: {percent_text(row['percent'])}" for row in rows]
    return ". ".join(parts) + "." if parts else _("Nothing to show.")


def overdue_text(count: int) -> str:
    if not count:
        return _("none overdue")
    return ngettext("%(count)d overdue", "%(count)d overdue", count) % {"count": count}


# --- template tags ----------------------------------------------------------------------------

@register.inclusion_tag("cycles/dashboard_chart_stacked.html")
def stacked_bar_chart(rows, *, chart_id: str, title: str):
    """A 100 % stacked bar per row, the counts inside, the note right of it, and a legend."""
    legend = []
    for row in rows:
        for segment in row["segments"]:
            if segment["key"] not in {item["key"] for item in legend}:
                fill, _ink = STATE_COLOURS.get(segment["key"], FALLBACK_COLOURS)
                legend.append({"key": segment["key"], "label": segment["label"], "fill": fill})
    return {"chart": stacked_bars(rows), "chart_id": chart_id, "title": title,
            "desc": stacked_description(rows), "legend": legend}


@register.inclusion_tag("cycles/dashboard_chart_percent.html")
def percent_bar_chart(rows, *, chart_id: str, title: str):
    """A bar per row for a percentage, written as text right of the bar."""
    chart = percent_bars(rows)
    for row in chart["rows"]:
        row["text"] = percent_text(row["percent"])
    return {"chart": chart, "chart_id": chart_id, "title": title,
            "desc": percent_description(rows)}


@register.inclusion_tag("cycles/dashboard_chart_year.html")
def year_strip_chart(*, year: int, marks, today, chart_id: str, title: str, desc: str):
    """The year as a strip of months with the numbered marks of the text list, and today."""
    return {"chart": year_strip(year=year, marks=marks, today=today), "chart_id": chart_id,
            "title": title, "desc": desc, "mark_y": MARK_Y, "mark_radius": MARK_RADIUS}


# --- the menu ---------------------------------------------------------------------------------

MENU_KEY = "dashboard_in_menu"
MENU_SECONDS = 300


def may_see_dashboard(user) -> bool:
    """Whether ``user`` may see the aggregates of some organisation they hold a mandate in."""
    from permissions.selectors import can, visible_organisations

    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return any(can(user=user, action=Action.CYCLE_AGGREGATES_VIEW, organisation_id=pk)
               for pk in visible_organisations(user=user).values_list("pk", flat=True))


@register.simple_tag(takes_context=True)
def dashboard_in_menu(context) -> bool:
    """Whether the menu shows "Dashboard" (kept in the session for ``MENU_SECONDS``)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    now = time.time()
    cached = request.session.get(MENU_KEY)
    if (isinstance(cached, dict) and cached.get("user") == user.pk
            and 0 <= now - cached.get("at", 0) < MENU_SECONDS):
        return bool(cached.get("show"))
    show = may_see_dashboard(user)
    request.session[MENU_KEY] = {"user": user.pk, "at": now, "show": show}
    return show
