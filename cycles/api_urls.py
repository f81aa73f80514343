"""API routes of the annual cycle, mounted under /api/v1/."""

urlpatterns: list = []
