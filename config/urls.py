from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView
from rest_framework.routers import DefaultRouter

from governance import api as governance_api
from governance import views as governance_views
from workflows import views as workflows_views

# Redoc comes from its CDN and starts with an inline script and inline styles.
API_DOCS_CSP = settings.SECURE_CSP | {
    "script-src": [CSP.SELF, CSP.UNSAFE_INLINE, "https://cdn.jsdelivr.net"],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE, "https://fonts.googleapis.com"],
    "font-src": [CSP.SELF, "https://fonts.gstatic.com"],
    "worker-src": [CSP.SELF, "blob:"],
}

router = DefaultRouter()
router.register("organisations", governance_api.OrganisationViewSet, basename="organisation")
router.register("operations-areas", governance_api.OperationsAreaViewSet,
                basename="operations-area")
router.register("departments", governance_api.DepartmentViewSet, basename="department")
router.register("bodies", governance_api.BodyViewSet, basename="body")
router.register("memberships", governance_api.MembershipViewSet, basename="membership")

api_v1 = [
    path("auth/token/", governance_api.TokenView.as_view(), name="api-token"),
    path("me/", governance_api.MeView.as_view(), name="api-me"),
    path("", include("cycles.api_urls")),
    path("", include("workflows.api_urls")),
    path("", include(router.urls)),
]

urlpatterns = [
    path("", workflows_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(),
         name="password_change_done"),
    path("bodies/<int:body_pk>/signing-authorisation/", governance_views.signing_authorisation,
         name="signing_authorisation"),
    path("two-factor/", include("governance.two_factor_urls")),
    # /plans/ (annual plans), /rollouts/ and /follow-ups/: one "cycles" namespace.
    path("", include("cycles.urls")),
    path("", include("workflows.urls")),
    path("", include("notifications.urls")),
    path("", include("privacy.urls")),
    # History pages (/plans/<pk>/history/, /follow-ups/<pk>/history/, /people/<pk>/history/)
    # and an organisation's audit trail (/organisations/<pk>/audit/).
    path("", include("audit.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", csp_override(API_DOCS_CSP)(
        SpectacularRedocView.as_view(url_name="api-schema")), name="api-docs"),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
