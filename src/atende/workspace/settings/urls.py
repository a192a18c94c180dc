"""The settings screens (CORE-10), under /settings/."""

from django.urls import path

from atende.workspace.settings import views

app_name = "settings"

urlpatterns = [
    path("", views.index, name="index"),
]
