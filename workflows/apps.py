from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Workflows and tasks")

    def ready(self):
        from governance.signals import mandates_changed
        from workflows.receivers import reroute_after_mandate_change

        mandates_changed.connect(reroute_after_mandate_change,
                                 dispatch_uid="workflows.reroute_after_mandate_change")
