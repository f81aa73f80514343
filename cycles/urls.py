"""HTML pages of the annual cycle (plans, initiatives, revisions, sign-offs)."""

app_name = "cycles"
urlpatterns: list = []
