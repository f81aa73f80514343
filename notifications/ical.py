"""An RFC 5545 (iCalendar) writer for the calendar feeds and the e-mail attachments. Pure: no
Django, no database; the callers build :class:`Event` values (notifications.calendar).

What it writes, and why:

* one ``VCALENDAR`` with ``METHOD:PUBLISH`` (a read-only feed, not an invitation), a name for
  the subscription (``X-WR-CALNAME``) and a refresh hint of an hour;
* per :class:`Event` an **all-day** ``VEVENT`` (``DTSTART;VALUE=DATE`` and ``DTEND`` the next
  day — the end is exclusive), a stable ``UID`` and a ``SEQUENCE`` that the caller raises when
  the date moves, so calendar programs update the event instead of adding a second one;
  ``STATUS:CANCELLED`` for cancelled steps and meetings (they then drop or strike the event);
* one ``VALARM`` (``TRIGGER:-PT15H``: 15 hours before the start of the day, 09:00 the day
  before) on events that are not cancelled;
* TEXT values escaped (backslash, semicolon, comma, newline), other control characters
  dropped; lines folded at 75 octets without splitting a UTF-8 character; CRLF line ends.
"""

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass

PRODID = "-//Aarshjul//Aarshjul calendar feed//EN"
CRLF = "\r\n"
LINE_OCTETS = 75
ALARM_TRIGGER = "-PT15H"  # an all-day event starts at 00:00: 09:00 the day before
REFRESH = "PT1H"

# Control characters are not allowed in TEXT values (RFC 5545 3.3.11), except HTAB.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Event:
    """One all-day event: a task's deadline or a meeting."""

    uid: str
    day: datetime.date
    summary: str
    description: str
    url: str
    sequence: int
    cancelled: bool
    alarm: bool = True
    location: str = ""


def escape_text(value: str) -> str:
    r"""A TEXT value: ``\`` → ``\\``, ``;`` → ``\;``, ``,`` → ``\,``, newlines → ``\n``."""
    value = str(value).replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value.replace("\\", "\\\\").replace(";", "\\;")
                         .replace(",", "\\,").replace("\n", "\\n"))
    return value


def fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1): CRLF and one space before each
    continuation, which counts towards its 75. A multi-byte UTF-8 character is never split."""
    if len(line.encode("utf-8")) <= LINE_OCTETS:
        return line
    parts, current, size, limit = [], [], 0, LINE_OCTETS
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, LINE_OCTETS - 1  # the leading space
        current.append(char)
        size += octets
    parts.append("".join(current))
    return (CRLF + " ").join(parts)


def format_date(day: datetime.date) -> str:
    return day.strftime("%Y%m%d")


def format_utc(moment: datetime.datetime) -> str:
    """A DATE-TIME in UTC (``…Z``); ``moment`` must be aware."""
    if moment.tzinfo is None:
        raise ValueError("DTSTAMP needs an aware datetime")
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def event_lines(event: Event, *, stamp: datetime.datetime) -> list[str]:
    """The unfolded content lines of one VEVENT."""
    summary = escape_text(event.summary)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(event.uid)}",
        f"DTSTAMP:{format_utc(stamp)}",
        f"SEQUENCE:{int(event.sequence)}",
        f"DTSTART;VALUE=DATE:{format_date(event.day)}",
        f"DTEND;VALUE=DATE:{format_date(event.day + datetime.timedelta(days=1))}",
        f"SUMMARY:{summary}",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.url:
        # A URI, not TEXT: no escaping (RFC 5545 3.8.4.6); control characters are dropped.
        lines.append(f"URL:{_CONTROL.sub('', event.url)}")
    lines.append(f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}")
    lines.append("TRANSP:TRANSPARENT")  # a deadline day does not make the person busy
    if event.alarm and not event.cancelled:
        lines += [
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            f"DESCRIPTION:{summary}",
            f"TRIGGER:{ALARM_TRIGGER}",
            "END:VALARM",
        ]
    lines.append("END:VEVENT")
    return lines


def calendar(events: Iterable[Event], *, name: str, stamp: datetime.datetime) -> str:
    """A whole VCALENDAR: folded lines, each ending in CRLF. ``stamp`` (aware) is the DTSTAMP
    of every event: when this copy of the calendar was made."""
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH}",
        f"X-PUBLISHED-TTL:{REFRESH}",
    ]
    for event in events:
        lines += event_lines(event, stamp=stamp)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)
