from django.dispatch import receiver

from cycles.signals import deadlines_changed
from workflows.services import refresh_due_dates, reroute_open_tasks


def reroute_after_mandate_change(sender, *, organisation_id: int, body_id: int | None = None,
                                 staff_role: str | None = None, **kwargs) -> None:
    """Only the open tasks routed to the changed mandate are looked at."""
    reroute_open_tasks(organisation_id=organisation_id, body_id=body_id, staff_role=staff_role)


@receiver(deadlines_changed, dispatch_uid="workflows.refresh_due_dates")
def refresh_after_deadlines_change(sender, *, organisation_id: int, **kwargs) -> None:
    """A meeting or a deadline rule changed (sent inside its transaction): the organisation's
    open tasks get their new due dates in the same commit. Connected when workflows.apps
    imports this module."""
    refresh_due_dates(organisation_id=organisation_id)
