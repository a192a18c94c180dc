from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from atende.workspace.access import settings_required


@settings_required
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "workspace/settings/index.html")
