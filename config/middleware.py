"""Request ids: each request gets one (or keeps a well-formed ``X-Request-ID`` from the proxy);
the audit trail records it and the response carries it, so a log line, an audit entry and a
user's report can be matched."""

import re
import time
import uuid

from django.conf import settings
from django.contrib.auth import logout

from audit.context import reset_request_id, set_request_id

_WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{8,64}")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _WELL_FORMED.fullmatch(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response["X-Request-ID"] = request_id
        return response


class DropMalformedCookiesMiddleware:
    """Cookies holding a NUL character are dropped before anything reads them: no session key,
    CSRF token or language can contain one, and PostgreSQL refuses NUL in text (the session
    lookup would fail with a 500). gunicorn already refuses such headers; runserver does not."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in value for value in request.COOKIES.values()):
            request.COOKIES = {name: value for name, value in request.COOKIES.items()
                               if "\x00" not in value}
        return self.get_response(request)


class IdleSessionTimeoutMiddleware:
    """Sign out a session left alone for SESSION_IDLE_MINUTES (a shared computer in an estate
    office): the next request finds it signed out and goes to the login page. The last
    activity is kept in the session, written at most once a minute."""

    KEY = "last_activity"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(self.KEY)
            if last is not None and now - last > settings.SESSION_IDLE_MINUTES * 60:
                logout(request)
            elif last is None or now - last >= 60:
                request.session[self.KEY] = now
        return self.get_response(request)
