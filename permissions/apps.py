from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PermissionsConfig(AppConfig):
    name = "permissions"
    verbose_name = _("Permissions")

    def ready(self):
        from permissions import checks  # noqa: F401  (registers the system checks)
