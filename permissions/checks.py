"""System checks for the permission set-up. Ids are stable: AARSHJUL.E0xx / W0xx."""

from django.conf import settings
from django.core.checks import Error, Tags, register

GUARDIAN_BACKEND = "guardian.backends.ObjectPermissionBackend"


@register(Tags.security)
def check_object_permission_backend(app_configs, **kwargs):
    """Object permissions are silently ignored without guardian's backend (guardian only warns)."""
    if GUARDIAN_BACKEND in settings.AUTHENTICATION_BACKENDS:
        return []
    return [
        Error(
            "guardian's object-permission backend is not configured.",
            hint=f"Add {GUARDIAN_BACKEND!r} to AUTHENTICATION_BACKENDS.",
            id="AARSHJUL.E001",
        )
    ]


@register(Tags.security)
def check_no_anonymous_user(app_configs, **kwargs):
    """Every page needs a login; guardian must not create an anonymous user with permissions."""
    if getattr(settings, "ANONYMOUS_USER_NAME", "AnonymousUser") is None:
        return []
    return [
        Error(
            "guardian's anonymous user is enabled.",
            hint="Set ANONYMOUS_USER_NAME = None.",
            id="AARSHJUL.E002",
        )
    ]


@register(Tags.compatibility)
def check_timezone(app_configs, **kwargs):
    errors = []
    if not settings.USE_TZ or settings.TIME_ZONE != "Europe/Copenhagen":
        errors.append(
            Error(
                "Årshjul keeps time in Europe/Copenhagen with USE_TZ on.",
                hint="Set TIME_ZONE = 'Europe/Copenhagen' and USE_TZ = True.",
                id="AARSHJUL.E003",
            )
        )
    return errors
