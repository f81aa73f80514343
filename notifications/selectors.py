"""Reads for reminders: preferences with their defaults, ladders, closing days."""

import datetime
from collections.abc import Iterable

from django.utils import timezone

from cycles.business_days import CUSTOMARY_CLOSING_DAYS
from cycles.models import CycleSettings
from governance.models import Person, StaffAssignment
from notifications.ladder import DEFAULT_POLICY, Delivery, Policy
from notifications.models import NotificationPreference, ReminderPolicy


def default_deliveries(person_ids: Iterable[int], *, day: datetime.date
                       ) -> dict[int, Delivery]:
    """Without a stored choice: a daily digest for staff, a weekly one for board members.
    One query."""
    person_ids = set(person_ids)
    staff = set(StaffAssignment.objects.current_on(day).filter(person_id__in=person_ids)
                .values_list("person_id", flat=True))
    return {pk: Delivery.DAILY if pk in staff else Delivery.WEEKLY for pk in person_ids}


def deliveries_for(person_ids: Iterable[int], *, day: datetime.date | None = None
                   ) -> dict[int, Delivery]:
    """Each person's reminder delivery: their stored choice, else the default. Two queries
    whatever the number of people."""
    person_ids = set(person_ids)
    day = day or timezone.localdate()
    stored = {pk: Delivery(value) for pk, value in NotificationPreference.objects.filter(
        person_id__in=person_ids).values_list("person_id", "delivery")}
    return default_deliveries(person_ids - set(stored), day=day) | stored


def delivery_for(person: Person, *, day: datetime.date | None = None) -> Delivery:
    return deliveries_for([person.pk], day=day)[person.pk]


def policy_from_row(row: ReminderPolicy) -> Policy:
    days = tuple(sorted({int(part) for part in row.days_before.split(",") if part.strip()},
                        reverse=True))
    return Policy(on_assignment=row.on_assignment, days_before=days,
                  on_due_day=row.on_due_day, overdue_every=row.overdue_every_business_days,
                  escalate_after=row.escalate_after_business_days)


class Policies:
    """The reminder ladders of some organisations: the step's own, else the organisation's
    general one (step ""), else the default. One query."""

    def __init__(self, organisation_ids: Iterable[int]):
        self._rows = {(row.organisation_id, row.step): policy_from_row(row)
                      for row in ReminderPolicy.objects.filter(
                          organisation_id__in=set(organisation_ids))}

    def get(self, organisation_id: int, step: str) -> Policy:
        return (self._rows.get((organisation_id, step))
                or self._rows.get((organisation_id, ""))
                or DEFAULT_POLICY)


def closed_days_for(organisation_ids: Iterable[int]) -> dict[int, tuple[tuple[int, int], ...]]:
    """The customary closing days each organisation keeps (5 June, 24 and 31 December; on by
    default when no settings are stored). One query."""
    organisation_ids = set(organisation_ids)
    open_on_them = set(CycleSettings.objects.filter(
        organisation_id__in=organisation_ids, closes_on_customary_days=False)
        .values_list("organisation_id", flat=True))
    return {pk: () if pk in open_on_them else CUSTOMARY_CLOSING_DAYS for pk in organisation_ids}
