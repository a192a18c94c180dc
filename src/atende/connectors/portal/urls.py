from django.urls import path

from atende.connectors.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.sign_up, name="signup"),
    path("sent/", views.sent, name="sent"),
    path("verify/<str:token>/", views.verify, name="verify"),
    path("signin/", views.sign_in, name="signin"),
    path("signin/link/", views.sign_in_link, name="signin-link"),
    path("link/<str:token>/", views.use_sign_in_link, name="link"),
    path("reset/", views.reset, name="reset"),
    path("reset/<str:token>/", views.reset_confirm, name="reset-confirm"),
    path("signout/", views.sign_out, name="signout"),
    path("new/", views.new_ticket, name="new-ticket"),
    path("tickets/<int:number>/", views.ticket, name="ticket"),
    path("files/<int:attachment_id>/", views.attachment, name="attachment"),
    path("brand/<slug:which>/", views.brand_image, name="brand"),
]
