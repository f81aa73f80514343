"""The RFC 5545 writer: golden output, escaping, folding, CANCELLED and SEQUENCE. Pure: no
database. The output is also read back with the independent ``icalendar`` parser."""

import datetime

import icalendar
import pytest

from notifications import ical

STAMP = datetime.datetime(2026, 5, 1, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))


def event(**changes) -> ical.Event:
    values = {
        "uid": "task-7@aarshjul.example",
        "day": datetime.date(2026, 6, 30),
        "summary": "Deadline: Prepare, the follow-up; now",
        "description": "Line one\nLine two",
        "url": "https://aarshjul.example/tasks/7/",
        "sequence": 2,
        "cancelled": False,
    }
    values.update(changes)
    return ical.Event(**values)


GOLDEN = (
    "BEGIN:VCALENDAR\r\n"
    "PRODID:-//Aarshjul//Aarshjul calendar feed//EN\r\n"
    "VERSION:2.0\r\n"
    "CALSCALE:GREGORIAN\r\n"
    "METHOD:PUBLISH\r\n"
    "X-WR-CALNAME:Årshjul: test\r\n"
    "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n"
    "X-PUBLISHED-TTL:PT1H\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:task-7@aarshjul.example\r\n"
    "DTSTAMP:20260501T080000Z\r\n"
    "SEQUENCE:2\r\n"
    "DTSTART;VALUE=DATE:20260630\r\n"
    "DTEND;VALUE=DATE:20260701\r\n"
    "SUMMARY:Deadline: Prepare\\, the follow-up\\; now\r\n"
    "DESCRIPTION:Line one\\nLine two\r\n"
    "URL:https://aarshjul.example/tasks/7/\r\n"
    "STATUS:CONFIRMED\r\n"
    "TRANSP:TRANSPARENT\r\n"
    "BEGIN:VALARM\r\n"
    "ACTION:DISPLAY\r\n"
    "DESCRIPTION:Deadline: Prepare\\, the follow-up\\; now\r\n"
    "TRIGGER:-PT15H\r\n"
    "END:VALARM\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)


def test_one_event_is_written_exactly_as_rfc_5545_wants_it():
    assert ical.calendar([event()], name="Årshjul: test", stamp=STAMP) == GOLDEN


def test_the_output_reads_back_with_an_independent_parser():
    text = ical.calendar([event()], name="Årshjul: test", stamp=STAMP)
    parsed = icalendar.Calendar.from_ical(text)
    assert str(parsed["METHOD"]) == "PUBLISH"
    assert str(parsed["X-WR-CALNAME"]) == "Årshjul: test"
    (vevent,) = parsed.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Deadline: Prepare, the follow-up; now"
    assert str(vevent["DESCRIPTION"]) == "Line one\nLine two"
    # An all-day event: a DATE (not a DATE-TIME), ending (exclusively) the next day.
    assert vevent.decoded("DTSTART") == datetime.date(2026, 6, 30)
    assert vevent.decoded("DTEND") == datetime.date(2026, 7, 1)
    assert vevent.decoded("DTSTAMP") == datetime.datetime(2026, 5, 1, 8, 0,
                                                          tzinfo=datetime.UTC)
    (alarm,) = vevent.walk("VALARM")
    # 15 hours before midnight: 09:00 the day before.
    assert alarm.decoded("TRIGGER") == -datetime.timedelta(hours=15)
    assert str(alarm["ACTION"]) == "DISPLAY"


@pytest.mark.parametrize(("text", "escaped"), [
    ("a,b", "a\\,b"),
    ("a;b", "a\\;b"),
    ("back\\slash", "back\\\\slash"),
    ("two\nlines", "two\\nlines"),
    ("windows\r\nlines", "windows\\nlines"),
    ("old mac\rlines", "old mac\\nlines"),
    ("bell\x07 and tab\t", "bell and tab\t"),
    ("Søbredden: møde kl. 17", "Søbredden: møde kl. 17"),
])
def test_text_is_escaped(text, escaped):
    assert ical.escape_text(text) == escaped


def test_escaped_text_survives_a_round_trip():
    summary = 'Back\\slash; comma, newline\nand "quotes": æøå'
    text = ical.calendar([event(summary=summary)], name="x", stamp=STAMP)
    (vevent,) = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == summary


def test_a_line_of_75_octets_is_not_folded_but_one_of_76_is():
    assert ical.fold("X" * 75) == "X" * 75
    assert ical.fold("X" * 76) == "X" * 75 + "\r\n X"


@pytest.mark.parametrize("char", ["a", "æ", "€", "😀"])
def test_folding_keeps_every_line_within_75_octets_and_never_splits_a_character(char):
    line = "DESCRIPTION:" + char * 200
    folded = ical.fold(line).encode("utf-8")
    physical = folded.split(b"\r\n")
    assert len(physical) > 2
    for number, octets in enumerate(physical):
        assert len(octets) <= 75
        if number:
            assert octets.startswith(b" ")
        octets.decode("utf-8")  # raises if a character was cut in two
    assert folded.replace(b"\r\n ", b"").decode("utf-8") == line


def test_every_line_ends_in_crlf_and_long_values_are_folded():
    long_description = "Forbered afdelingens opfølgning – første halvår 2026 " * 5
    text = ical.calendar([event(description=long_description)], name="x", stamp=STAMP)
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    (vevent,) = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert str(vevent["DESCRIPTION"]) == long_description


def test_a_cancelled_event_says_so_and_has_no_alarm():
    text = ical.calendar([event(cancelled=True, sequence=3)], name="x", stamp=STAMP)
    assert "STATUS:CANCELLED\r\n" in text
    assert "STATUS:CONFIRMED" not in text
    assert "BEGIN:VALARM" not in text
    (vevent,) = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert (str(vevent["STATUS"]), int(vevent["SEQUENCE"])) == ("CANCELLED", 3)


def test_sequence_and_uid_are_written_as_given():
    first = ical.calendar([event(sequence=0)], name="x", stamp=STAMP)
    moved = ical.calendar([event(sequence=1, day=datetime.date(2026, 7, 2))], name="x",
                          stamp=STAMP)
    assert "SEQUENCE:0\r\n" in first and "DTSTART;VALUE=DATE:20260630" in first
    assert "SEQUENCE:1\r\n" in moved and "DTSTART;VALUE=DATE:20260702" in moved
    assert "UID:task-7@aarshjul.example\r\n" in first and \
        "UID:task-7@aarshjul.example\r\n" in moved


def test_an_event_without_alarm_and_with_a_place():
    text = ical.calendar([event(alarm=False, location="Fælleshuset, Søvej 2")],
                         name="x", stamp=STAMP)
    assert "BEGIN:VALARM" not in text
    assert "LOCATION:Fælleshuset\\, Søvej 2\r\n" in text


def test_the_stamp_must_be_aware():
    with pytest.raises(ValueError):
        ical.calendar([event()], name="x", stamp=datetime.datetime(2026, 5, 1, 10, 0))  # noqa: DTZ001
