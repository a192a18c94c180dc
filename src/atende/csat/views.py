"""The public rating page a signed link opens (no sign-in): the score 1-5 and a comment.

Opening the link records nothing (mail scanners open links); the customer's POST does.
The page speaks the invitation's language, with a switch to the other one."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from atende.client_address import client_ip
from atende.csat.answers import AlreadyAnswered, AnswerError, record_answer
from atende.csat.config import LANGUAGES, score_labels
from atende.csat.models import AnswerSource, Survey
from atende.csat.tokens import BadToken, read_token

# Answers one address may post in a window: ample for a family behind one router, and
# a wall for a script trying tokens.
POSTS_PER_WINDOW, WINDOW_SECONDS = 20, 600


def _too_many(request: HttpRequest) -> bool:
    key = f"csat-posts:{client_ip(request)}"
    cache.add(key, 0, WINDOW_SECONDS)
    try:
        return cache.incr(key) > POSTS_PER_WINDOW
    except ValueError:  # expired between the two calls
        return False


def _survey(token: str) -> Survey | None:
    try:
        claim = read_token(token)
    except BadToken:
        return None
    # Scoped by the organisation in the token: a survey id of another tenant is not found.
    return (Survey.objects.for_org(claim.organization_id).select_related(
        "ticket", "ticket__organization").filter(pk=claim.survey_id).first())


@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, token: str) -> HttpResponse:
    survey = _survey(token)
    language = request.GET.get("lang", "")
    if language not in LANGUAGES:
        language = survey.language if survey is not None else translation.get_language()
    with translation.override(language):
        if survey is None:
            return render(request, "csat/invalid.html", {"language": language}, status=404)
        return _page(request, survey, language)


def _page(request: HttpRequest, survey: Survey, language: str) -> HttpResponse:
    context = {"survey": survey, "ticket": survey.ticket, "language": language,
               "organization": survey.ticket.organization, "scores": score_labels(language),
               "other_language": "en" if language == "pt-br" else "pt-br",
               "chosen": request.GET.get("score", ""), "comment": "", "error": ""}
    if survey.answered:  # one answer per ticket: a second one is refused, the first shown
        return render(request, "csat/thanks.html", {**context, "already": True},
                      status=409 if request.method == "POST" else 200)
    if request.method != "POST":
        return render(request, "csat/rate.html", context)
    if _too_many(request):
        return render(request, "csat/rate.html", {**context, "error": _(
            "Too many attempts from your network. Try again in a few minutes.")}, status=429)
    score, comment = request.POST.get("score", ""), request.POST.get("comment", "")
    try:
        survey = record_answer(survey.organization_id, survey.ticket_id, score, comment,
                               via=AnswerSource.LINK)
    except AlreadyAnswered:
        survey.refresh_from_db()
        return render(request, "csat/thanks.html", {**context, "survey": survey,
                                                     "already": True}, status=409)
    except AnswerError as exc:
        return render(request, "csat/rate.html", {**context, "chosen": score,
                                                   "comment": comment[:2000],
                                                   "error": exc.message}, status=400)
    return render(request, "csat/thanks.html", {**context, "survey": survey, "already": False})
