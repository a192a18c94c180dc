from django.urls import path

from atende.connectors.meta_messaging.views import webhook_view

app_name = "instagram"
urlpatterns = [path("<int:channel_id>/webhook", webhook_view("instagram"), name="webhook")]
