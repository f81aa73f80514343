"""The cycle dashboard (årshjul).

Included from cycles/urls.py, so the name lives in the ``cycles`` namespace
(``cycles:dashboard``).
"""

from django.urls import path

from cycles import dashboard_views as views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
]
