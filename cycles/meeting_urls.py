"""The governance calendar and the deadline settings. Included from cycles/urls.py, so the
names live in the ``cycles`` namespace (``cycles:meeting_list``)."""

from django.urls import path

from cycles import meeting_views as views

urlpatterns = [
    path("meetings/", views.meeting_list, name="meeting_list"),
    path("meetings/new/", views.meeting_create, name="meeting_create"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/cancel/", views.meeting_cancel, name="meeting_cancel"),
    path("settings/deadlines/", views.deadline_settings, name="deadline_settings"),
]
