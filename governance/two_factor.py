"""Step-up: the check a signer's request passes before it may act.

Sign-in stays one password step. When a person is about to take a signer action (see
``permissions.two_factor``) in an organisation that requires two-factor, and this session has
not been verified with a code (django-otp's ``request.user.is_verified()``), the action is not
taken: a page answers with a redirect to the verify page (or to set-up, for someone without an
authenticator yet) that comes back to ``next``; the API answers 403 with the code
``two_factor_required``. A verified session stays verified until it ends (sign-out, idle
timeout, the end of the working day), or until two-factor is turned off.

The API can only be verified through a browser session: an API token alone never counts as a
second factor, so token clients cannot take signer actions in such an organisation.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions

from governance.two_factor_selectors import has_authenticator
from permissions.matrix import Action
from permissions.two_factor import two_factor_required_for

ERROR_CODE = "two_factor_required"


def session_verified(request) -> bool:
    """Whether this request's session has been verified with a second factor. A user from an
    API token (no session) never is."""
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified is not None and is_verified())


def needs_step_up(request, *, organisation, action: Action) -> bool:
    """The organisation requires a second factor for ``action`` and the session has none."""
    return (two_factor_required_for(person=request.user, organisation=organisation,
                                    action=action)
            and not session_verified(request))


def safe_next(request, url: str | None) -> str | None:
    """``url`` if it is a path on this site, else ``None``."""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return url
    return None


def step_up_redirect(request, *, organisation, next_url: str):
    """To the verify page (or set-up, without an authenticator), coming back to ``next_url``,
    with a message naming the organisation that asks for it."""
    messages.info(request, _("%(organisation)s requires a code from your authenticator app "
                             "before you sign, approve or return on behalf of a body.")
                  % {"organisation": organisation.name})
    name = ("two_factor:verify" if has_authenticator(person=request.user)
            else "two_factor:status")
    return redirect(f"{reverse(name)}?{urlencode({'next': next_url})}")


class TwoFactorRequired(exceptions.PermissionDenied):
    default_detail = gettext_lazy(
        "This organisation requires two-factor verification for this action. Verify this "
        "session with a code from your authenticator app at /two-factor/verify/ and try again.")
    default_code = ERROR_CODE


def api_require_two_factor(request, *, organisation, action: Action) -> None:
    """For an API endpoint that has checked the caller may take ``action``: 403
    ``two_factor_required`` if the organisation asks for a second factor this session lacks."""
    if needs_step_up(request, organisation=organisation, action=action):
        raise TwoFactorRequired
