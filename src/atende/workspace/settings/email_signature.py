"""The e-mail channel's signature editor (EM-6): rich text with uploaded images, and a live
preview of the mail the customer receives."""

from __future__ import annotations

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from atende.channels.models import Channel, ChannelKind
from atende.connectors.email.models import SignatureImage
from atende.connectors.email.signature import (
    SignatureRefused,
    display_html,
    for_editor,
    prepare,
    preview,
    save_signature,
)
from atende.connectors.email.signature_images import MAX_IMAGE_BYTES, ImageRefused, store_image
from atende.workspace.access import settings_required

TEMPLATE = "workspace/settings/email_signature.html"


def _email_channel(request: HttpRequest, pk: int) -> Channel:
    channel = (Channel.objects.for_org(request.membership.organization_id)  # type: ignore[attr-defined]
               .filter(pk=pk, kind=ChannelKind.EMAIL).first())
    if channel is None:
        raise Http404
    return channel


def _document(html: str) -> str:
    """The composed HTML part as the page a mail client shows (the iframe's srcdoc)."""
    return f'<!doctype html><html><head><meta charset="utf-8"></head><body>{html}</body></html>'


def _image_prefix(channel: Channel) -> str:
    return reverse("workspace:settings:email_signature_images", args=[channel.pk])


@settings_required
def signature_editor(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _email_channel(request, pk)
    prefix = _image_prefix(channel)
    errors: list[str] = []
    if request.method == "POST":
        submitted = request.POST.get("signature_html", "")
        try:
            save_signature(channel, submitted, prefix)
        except SignatureRefused as exc:
            errors = exc.errors
            editor_html = display_html(submitted)
        else:
            messages.success(request, _("Signature saved."))
            return redirect("workspace:settings:email_signature", pk=channel.pk)
    else:
        editor_html = for_editor(channel.settings.get("signature_html", ""), prefix)
    try:
        html, text = preview(channel, prepare(channel, editor_html, prefix))
    except SignatureRefused:
        html, text = preview(channel, prepare(channel, ""))
    status = 400 if errors else 200
    return render(request, TEMPLATE, {
        "channel": channel, "editor_html": editor_html, "errors": errors,
        "preview_document": _document(html), "preview_text": text, "upload_url": prefix,
        "max_image_mb": MAX_IMAGE_BYTES // (1024 * 1024),
    }, status=status)


@require_POST
@settings_required
def signature_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The preview fragment for the signature being edited; nothing is stored."""
    channel = _email_channel(request, pk)
    errors: list[str] = []
    try:
        signature = prepare(channel, request.POST.get("signature_html", ""),
                            _image_prefix(channel))
    except SignatureRefused as exc:
        errors = exc.errors
        signature = prepare(channel, "")
    html, text = preview(channel, signature)
    return render(request, "workspace/settings/email_signature_preview.html",
                  {"preview_document": _document(html), "preview_text": text,
                   "errors": errors})


@require_POST
@settings_required
def signature_image_upload(request: HttpRequest, pk: int) -> JsonResponse:
    """An image from the editor: its URL for the editor, or why it was refused."""
    channel = _email_channel(request, pk)
    upload = request.FILES.get("image")
    if upload is None:
        return JsonResponse({"error": _("Choose an image to upload.")}, status=400)
    try:
        if upload.size is not None and upload.size > MAX_IMAGE_BYTES:
            raise ImageRefused(_("The image is too large: at most 1 MB per image."))
        image = store_image(channel, upload.read(MAX_IMAGE_BYTES + 1))
    except ImageRefused as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"url": f"{_image_prefix(channel)}{image.pk}/"}, status=201)


@require_GET
@settings_required
def signature_image(request: HttpRequest, pk: int, image_id: int) -> FileResponse:
    channel = _email_channel(request, pk)
    image = SignatureImage.objects.for_org(channel.organization_id).filter(
        channel=channel, pk=image_id).first()
    if image is None:
        raise Http404
    response = FileResponse(default_storage.open(image.storage_name, "rb"),
                            content_type=image.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=86400"
    return response
