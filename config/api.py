"""API plumbing shared by every app: pagination, the error format and the conflict error.

Every error leaves the API as JSON of one shape::

    {"status": 400, "code": "invalid", "detail": "…", "errors": {"field": ["…"]}}

``errors`` is present for validation errors only. A lost race or an action in the wrong state
raises :class:`Conflict` (409) whose detail names the current state.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import Conflict as ServiceConflict


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        """A page that is not a number or does not exist is bad input: 400 naming ``page``."""
        try:
            return super().paginate_queryset(queryset, request, view)
        except exceptions.NotFound as error:
            raise exceptions.ValidationError({self.page_query_param: [error.detail]}) from error


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The object changed while you were working on it.")
    default_code = "conflict"

    def __init__(self, detail=None, *, current_state: str | None = None):
        super().__init__(detail)
        self.current_state = current_state


def exception_handler(exc, context):
    if isinstance(exc, ServiceConflict):
        exc = Conflict(exc.message, current_state=exc.current_state)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    body: dict = {"status": response.status_code}
    if isinstance(exc, exceptions.ValidationError):
        body["code"] = "invalid"
        body["detail"] = str(_("The request has invalid fields."))
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body["errors"] = errors
    else:
        detail = getattr(exc, "detail", None)
        body["code"] = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        body["detail"] = str(detail) if detail is not None else str(exc)
        if isinstance(exc, Conflict) and exc.current_state is not None:
            body["current_state"] = exc.current_state
    response.data = body
    return response
