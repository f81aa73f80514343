"""HTML pages of the annual cycle (plans, initiatives, revisions, sign-offs), and under the
same namespace the rollout and follow-up pages (cycles/follow_up_urls.py).

Mounted at the site's root: the plans under /plans/, the rollout plans and follow-ups under
/rollouts/ and /follow-ups/.
"""

from django.urls import include, path

from cycles import follow_up_views, views

app_name = "cycles"
plan_urlpatterns = [
    path("", views.plan_list, name="plan_list"),
    path("new/", views.plan_create, name="plan_create"),
    path("<int:pk>/", views.plan_detail, name="plan_detail"),
    path("<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("<int:pk>/initiatives/new/", views.initiative_create, name="initiative_create"),
    path("<int:pk>/initiatives/<int:initiative_pk>/edit/", views.initiative_edit,
         name="initiative_edit"),
    path("<int:pk>/initiatives/<int:initiative_pk>/delete/", views.initiative_delete,
         name="initiative_delete"),
    path("<int:pk>/themes/<int:theme_pk>/justification/", views.theme_justification,
         name="theme_justification"),
    path("<int:pk>/submit/", views.plan_submit, name="plan_submit"),
    path("<int:pk>/comment/", views.plan_comment, name="plan_comment"),
    path("<int:pk>/close-review/", views.plan_close_review, name="plan_close_review"),
    path("<int:pk>/return/", views.plan_return, name="plan_return"),
    path("<int:pk>/sign/", views.plan_sign, name="plan_sign"),
    path("<int:pk>/publish/", views.plan_publish, name="plan_publish"),
    path("<int:pk>/presentation/", views.plan_presentation, name="plan_presentation"),
    path("<int:pk>/evaluate/", views.plan_evaluate, name="plan_evaluate"),
    path("<int:pk>/revisions/", views.revision_list, name="revision_list"),
    path("<int:pk>/revisions/diff/", views.revision_diff, name="revision_diff"),
    path("<int:pk>/rollout/", follow_up_views.plan_coverage, name="plan_coverage"),
    path("<int:pk>/follow-ups/", follow_up_views.plan_aggregates, name="plan_aggregates"),
]

urlpatterns = [
    path("plans/", include(plan_urlpatterns)),
    path("", include("cycles.follow_up_urls")),
    path("", include("cycles.dashboard_urls")),
    path("", include("cycles.meeting_urls")),
]
