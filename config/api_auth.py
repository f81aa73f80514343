"""The API's token authentication (settings: ``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]``).

Its own module: DRF's views read that setting when they are imported, and ``config.api``
imports them.
"""

import re

from django.utils.translation import gettext
from rest_framework import authentication, exceptions

TOKEN_KEY = re.compile(r"[0-9a-f]{40}")


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, refusing a key that no token can have (keys are 40 hex
    digits) before it reaches the database: PostgreSQL rejects a NUL byte in a query with an
    error, which would answer 500 instead of 401."""

    def authenticate_credentials(self, key):
        if not TOKEN_KEY.fullmatch(key):
            # DRF's own message (translated by DRF's catalogue)
            raise exceptions.AuthenticationFailed(gettext("Invalid token."))
        return super().authenticate_credentials(key)
