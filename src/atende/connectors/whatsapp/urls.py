from django.urls import path

from atende.connectors.whatsapp.views import webhook

app_name = "whatsapp"
urlpatterns = [
    path("<int:channel_id>/webhook", webhook, name="webhook"),
]
