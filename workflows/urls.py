"""HTML pages of the task inbox (the landing page itself is ``home`` in config/urls.py), one
task, the bulk actions, saved filters and delegation: the ``workflows`` namespace."""

from django.urls import path

from workflows import views

app_name = "workflows"
urlpatterns = [
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("tasks/<int:pk>/claim/", views.task_claim, name="task_claim"),
    path("tasks/<int:pk>/release/", views.task_release, name="task_release"),
    path("tasks/<int:pk>/snooze/", views.task_snooze, name="task_snooze"),
    path("tasks/<int:pk>/comments/", views.task_comment, name="task_comment"),
    path("tasks/<int:pk>/reassign/", views.task_reassign, name="task_reassign"),
    path("tasks/bulk/", views.task_bulk, name="task_bulk"),
    path("saved-filters/", views.saved_filter_save, name="saved_filter_save"),
    path("saved-filters/<int:pk>/delete/", views.saved_filter_delete,
         name="saved_filter_delete"),
    path("delegations/", views.delegation_list, name="delegation_list"),
    path("delegations/<int:pk>/cancel/", views.delegation_cancel, name="delegation_cancel"),
]
