"""Included at p/<slug:org>/kb/ (before the portal's own URLs)."""

from django.urls import path

from atende.kb import public_views

app_name = "kb-public"

urlpatterns = [
    path("", public_views.home, name="home"),
    path("suggest", public_views.suggest, name="suggest"),
    path("<slug:slug>/", public_views.article_page, name="article"),
    path("<slug:slug>/vote/", public_views.vote, name="vote"),
]
