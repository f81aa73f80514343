"""The calendar page (signed in) and the feeds themselves (public by their secret token)."""

from django.urls import path, re_path

from notifications import calendar_views as views

urlpatterns = [
    path("calendar/", views.calendar_page, name="calendar"),
    path("calendar/new/", views.calendar_feed_create, name="calendar_feed_create"),
    path("calendar/<int:pk>/revoke/", views.calendar_feed_revoke, name="calendar_feed_revoke"),
    # secrets.token_urlsafe(32): 43 characters of A-Z a-z 0-9 - _
    re_path(r"^calendar/(?P<token>[A-Za-z0-9_-]{16,64})\.ics$", views.calendar_feed,
            name="calendar_feed"),
]
