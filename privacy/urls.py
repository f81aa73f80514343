"""The signed-in person's own data: the ``privacy`` namespace."""

from django.urls import path

from privacy import views

app_name = "privacy"
urlpatterns = [
    path("me/data/", views.my_data, name="my_data"),
]
