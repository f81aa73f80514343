from workflows.services import reroute_open_tasks


def reroute_after_mandate_change(sender, *, organisation_id: int, body_id: int | None = None,
                                 staff_role: str | None = None, **kwargs) -> None:
    """Only the open tasks routed to the changed mandate are looked at."""
    reroute_open_tasks(organisation_id=organisation_id, body_id=body_id, staff_role=staff_role)
