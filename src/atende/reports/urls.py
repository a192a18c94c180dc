from django.urls import path

from atende.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("period/", views.period, name="period"),
    path("agents/", views.agents, name="agents"),
    path("sla/", views.sla, name="sla"),
    path("exports/", views.export_list, name="exports"),
    path("exports/<int:export_id>/", views.export_status, name="export-status"),
    path("exports/<int:export_id>/download/", views.export_download, name="export-download"),
    path("exports/<int:export_id>/cancel/", views.export_cancel, name="export-cancel"),
]
