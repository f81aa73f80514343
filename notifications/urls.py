"""The notifications pages: calendar feeds (calendar_urls), preferences, unsubscribe, the demo
outbox and delivery problems (mail_urls)."""

from notifications.calendar_urls import urlpatterns as calendar_patterns
from notifications.mail_urls import urlpatterns as mail_patterns

app_name = "notifications"

urlpatterns = [*calendar_patterns, *mail_patterns]
