from workflows.services import reroute_open_tasks


def reroute_after_mandate_change(sender, *, organisation_id: int, **kwargs) -> None:
    reroute_open_tasks(organisation_id=organisation_id)
