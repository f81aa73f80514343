import os

from django.core.asgi import get_asgi_application

from config.env import ensure_startable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()

# A web process does not start without its production settings (see config/settings.py).
from django.conf import settings  # noqa: E402

ensure_startable(settings)
