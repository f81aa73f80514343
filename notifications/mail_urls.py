"""The e-mail pages of the ``notifications`` namespace: reminder preferences, the unsubscribe
address of every e-mail, the demo outbox and the operations secretary's delivery problems."""

from django.urls import path

from notifications import mail_views

urlpatterns = [
    path("preferences/", mail_views.preferences, name="preferences"),
    path("unsubscribe/<str:token>/", mail_views.unsubscribe, name="unsubscribe"),
    path("outbox/", mail_views.outbox, name="outbox"),
    path("notifications/problems/", mail_views.problems, name="problems"),
]
