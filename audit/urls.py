"""History pages and an organisation's audit trail (mounted at the site's root)."""

from django.urls import path

from audit import views

app_name = "audit"
urlpatterns = [
    path("plans/<int:pk>/history/", views.plan_history, name="plan_history"),
    path("follow-ups/<int:pk>/history/", views.follow_up_history, name="follow_up_history"),
    path("people/<int:pk>/history/", views.person_history, name="person_history"),
    path("organisations/<int:pk>/audit/", views.organisation_audit, name="organisation_audit"),
]
