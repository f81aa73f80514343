from django.urls import path

from governance import two_factor_views as views

app_name = "two_factor"

urlpatterns = [
    path("", views.two_factor_status, name="status"),
    path("setup/", views.two_factor_setup, name="setup"),
    path("confirm/", views.two_factor_confirm, name="confirm"),
    path("verify/", views.two_factor_verify, name="verify"),
    path("recovery-codes/", views.two_factor_recovery_codes, name="recovery_codes"),
    path("disable/", views.two_factor_disable, name="disable"),
]
