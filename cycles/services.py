"""Writes to the annual cycle. Every change goes through one of these functions."""

from django.db import transaction

from audit.services import audit_record
from cycles.models import OperationsProgramme, Theme
from governance.models import Organisation


@transaction.atomic
def programme_create(*, actor, organisation: Organisation, name: str, first_year: int,
                     last_year: int, themes: list[tuple[str, str]]) -> OperationsProgramme:
    """Create a programme with its themes, numbered in the order given (title, purpose)."""
    programme = OperationsProgramme(organisation=organisation, name=name,
                                    first_year=first_year, last_year=last_year)
    programme.full_clean()
    programme.save()
    Theme.objects.bulk_create(
        Theme(programme=programme, number=number, title=title, purpose=purpose)
        for number, (title, purpose) in enumerate(themes, start=1)
    )
    audit_record(actor=actor, action="programme.create", obj=programme,
                 organisation=organisation,
                 summary={"name": name, "themes": [title for title, _purpose in themes]})
    return programme
