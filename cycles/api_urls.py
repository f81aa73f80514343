"""API routes of the annual cycle, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from cycles import api, follow_up_api

# SimpleRouter: the API root view belongs to the governance router mounted after this one.
# Path converters (<int:pk>): ids are digits, documented as integers.
router = SimpleRouter(use_regex_path=False)
router.register("plans", api.PlanViewSet, basename="plan")
router.register("initiatives", api.InitiativeViewSet, basename="initiative")
router.register("follow-ups", follow_up_api.FollowUpViewSet, basename="follow-up")
router.register("rollouts", follow_up_api.RolloutViewSet, basename="rollout")

urlpatterns = router.urls
