from django.urls import path

from atende.connectors.webchat import views

app_name = "webchat"

urlpatterns = [
    path("v1.js", views.script, name="script"),
    path("test/<str:public_id>", views.test_page, name="test-page"),
    path("w/<str:public_id>/config", views.config, name="config"),
    path("w/<str:public_id>/session", views.session, name="session"),
    path("w/<str:public_id>/messages", views.messages, name="messages"),
    path("w/<str:public_id>/typing", views.typing, name="typing"),
    path("w/<str:public_id>/stream", views.stream, name="stream"),
]
