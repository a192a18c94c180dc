"""Every kind of Telegram message in: text, photo (its largest size), document, voice,
location, edits and unsupported kinds; files downloaded through getFile in processing,
a passing download failure tried again."""

from __future__ import annotations

import pytest

from atende.channels import pipeline
from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.channels.reasons import explain
from atende.tickets.models import Attachment, Message
from tests.connectors.telegram.conftest import Updates
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.django_db


def only_message(channel: Channel) -> Message:
    return Message.objects.get(channel=channel)


def test_a_photo_is_its_largest_size_with_the_caption(
        tg_channel: Channel, tg: FakeTelegram, updates: Updates) -> None:
    tg.customer_sends(photo=tg.photo(b"\xff\xd8 the large picture"), caption="A nota")
    assert updates.flush() == [200]
    message = only_message(tg_channel)
    assert message.text == "A nota"
    [attachment] = Attachment.objects.filter(message=message)
    assert attachment.content_type == "image/jpeg"
    assert attachment.file.read() == b"\xff\xd8 the large picture"
    assert tg.requests.count("getFile") == 1  # only the largest size was fetched


def test_a_document_keeps_its_name_and_type(tg_channel: Channel, tg: FakeTelegram,
                                            updates: Updates) -> None:
    file_id = tg.store_file(b"%PDF-1.4 boleto", "documents/file_7.pdf")
    tg.customer_sends(document={"file_id": file_id, "file_unique_id": "u",
                                "file_name": "boleto.pdf", "mime_type": "application/pdf",
                                "file_size": 15})
    updates.flush()
    [attachment] = Attachment.objects.filter(message=only_message(tg_channel))
    assert (attachment.filename, attachment.content_type) == ("boleto.pdf", "application/pdf")
    assert attachment.file.read() == b"%PDF-1.4 boleto"


def test_a_voice_note_is_an_ogg_audio(tg_channel: Channel, tg: FakeTelegram,
                                      updates: Updates) -> None:
    file_id = tg.store_file(b"OggS voice", "voice/file_3.oga")
    tg.customer_sends(voice={"file_id": file_id, "file_unique_id": "v", "duration": 3,
                             "mime_type": "audio/ogg"})
    updates.flush()
    [attachment] = Attachment.objects.filter(message=only_message(tg_channel))
    assert attachment.content_type == "audio/ogg"
    assert attachment.filename.endswith((".ogg", ".oga"))
    assert attachment.file.read() == b"OggS voice"


def test_a_location_is_a_text_with_a_map_link(tg_channel: Channel, tg: FakeTelegram,
                                              updates: Updates) -> None:
    tg.customer_sends(location={"latitude": -23.55052, "longitude": -46.633308})
    updates.flush()
    text = only_message(tg_channel).text
    assert "-23.550520, -46.633308" in text
    assert "https://www.openstreetmap.org/?mlat=-23.550520&mlon=-46.633308" in text


@pytest.mark.parametrize("content", [
    {"poll": {"id": "1", "question": "Sim?", "options": []}},
    {"dice": {"emoji": "🎲", "value": 4}},
])
def test_an_unsupported_kind_is_shown_as_such_never_dropped(
        content: dict[str, object], tg_channel: Channel, tg: FakeTelegram,
        updates: Updates) -> None:
    tg.customer_sends(**content)
    updates.flush()
    [kind] = content
    # In the organisation's language (Portuguese).
    assert f"de um tipo que o Atende não mostra: {kind}" in only_message(tg_channel).text


def test_an_edit_is_a_new_entry_marked_edited(tg_channel: Channel, tg: FakeTelegram,
                                              updates: Updates) -> None:
    original = tg.customer_sends("Pedido 12")
    tg.customer_sends("Pedido 123", edited=True,
                      message_id=original["message"]["message_id"])
    updates.flush()
    texts = list(Message.objects.filter(channel=tg_channel).order_by("pk")
                 .values_list("text", flat=True))
    assert texts == ["Pedido 12", "(editada) Pedido 123"]


def test_a_file_telegram_no_longer_has_is_said_on_the_entry(
        tg_channel: Channel, tg: FakeTelegram, updates: Updates) -> None:
    tg.customer_sends(document={"file_id": "gone", "file_name": "x.pdf"}, caption="Veja")
    updates.flush()
    message = only_message(tg_channel)
    assert message.text.startswith("Veja\nNão foi possível baixar o arquivo do Telegram: "
                                   "Bad Request: invalid file_id")
    assert not Attachment.objects.filter(message=message).exists()


def test_a_passing_download_failure_is_quarantined_then_tried_again(
        tg_channel: Channel, tg: FakeTelegram, updates: Updates) -> None:
    tg.fail_next(502, method="getFile")
    tg.customer_sends(photo=tg.photo(b"picture"))
    updates.flush()
    [event] = InboundEvent.objects.filter(channel=tg_channel)
    assert event.status == InboundStatus.QUARANTINED
    assert event.error.startswith("MediaDownloadFailed: media download: HTTP 502")
    assert explain(event.error) == explain("media download: x")  # "it will be tried again"
    assert not Message.objects.filter(channel=tg_channel).exists()

    # The delayed retry, as the worker runs it.
    from atende.connectors.telegram.receive import process_ids
    process_ids(tg_channel.pk, [event.pk], attempt=1)
    event.refresh_from_db()
    assert event.status == InboundStatus.PROCESSED
    assert Attachment.objects.get(message=only_message(tg_channel)).file.read() == b"picture"
    assert pipeline.process_again(event) == InboundStatus.PROCESSED  # idempotent
