import os

from django.core.wsgi import get_wsgi_application

from config.env import ensure_startable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# A web process does not start without its production settings (see config/settings.py).
from django.conf import settings  # noqa: E402

ensure_startable(settings)
