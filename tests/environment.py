"""Loaded by pytest as a plugin (``-p tests.environment``) before Django's settings are read.

Tests run with DEBUG on and an in-memory mailbox unless the caller sets them.
"""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("EMAIL_URL", "locmem")
# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run
# inside one unless told that this thread is safe (it is: the loop only drives the browser).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
