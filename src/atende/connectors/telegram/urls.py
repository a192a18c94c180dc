from django.urls import path

from atende.connectors.telegram.views import webhook

app_name = "telegram"
urlpatterns = [
    path("<int:channel_id>/webhook", webhook, name="webhook"),
]
