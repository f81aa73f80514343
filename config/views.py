"""Error pages: JSON under /api/, an accessible HTML page elsewhere. Nothing else lives here."""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _error(request, status: int, code: str, message: str):
    if _is_api(request):
        return JsonResponse({"status": status, "code": code, "detail": message}, status=status)
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def bad_request(request, exception=None):
    return _error(request, 400, "bad_request", _("The request could not be understood."))


def permission_denied(request, exception=None):
    return _error(request, 403, "permission_denied",
                  _("You do not have permission to do this."))


def page_not_found(request, exception=None):
    return _error(request, 404, "not_found", _("The page was not found."))


def server_error(request):
    return _error(request, 500, "server_error",
                  _("Something went wrong on our side. The error has been logged."))
