"""API routes of the task inbox and delegations, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from workflows import api

# SimpleRouter: the API root view belongs to the governance router mounted after this one.
# Path converters (<int:pk>): ids are digits, documented as integers; `tasks/counts/` cannot
# be read as a task id.
router = SimpleRouter(use_regex_path=False)
router.register("tasks", api.TaskViewSet, basename="task")
router.register("delegations", api.DelegationViewSet, basename="delegation")

urlpatterns = router.urls
