from django.urls import path

from atende.csat import views

app_name = "csat"

urlpatterns = [
    path("<str:token>/", views.rate, name="rate"),
]
