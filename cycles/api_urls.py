"""API routes of the annual cycle, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from cycles import api

# SimpleRouter: the API root view belongs to the governance router mounted after this one.
# Path converters (<int:pk>): ids are digits, documented as integers.
router = SimpleRouter(use_regex_path=False)
router.register("plans", api.PlanViewSet, basename="plan")
router.register("initiatives", api.InitiativeViewSet, basename="initiative")

urlpatterns = router.urls
