"""Absolute links for what leaves the site (e-mails, calendar feeds): built on SITE_URL."""

from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse


def site_host() -> str:
    """The host part of SITE_URL: the domain of Message-IDs and calendar UIDs."""
    return urlsplit(settings.SITE_URL).hostname or "aarshjul"


def absolute_url(path: str) -> str:
    return settings.SITE_URL + path


def task_url(task_id: int) -> str:
    return absolute_url(reverse("workflows:task_detail", args=[task_id]))
