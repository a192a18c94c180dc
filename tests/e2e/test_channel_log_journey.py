"""The channel log in a real browser: a hostile mail that came in through the real receive
path is quarantined; the administrator opens the channel's log from the channels list (the
mailbox's status beside it), sees it with its reason and downloads the original .eml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Site
from tests.e2e.test_workspace_journeys import SCREENSHOTS, sign_in
from tests.fakes import processes

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
CORPUS = Path(__file__).resolve().parents[1] / "connectors" / "email" / "corpus"

SEED = """
import json
from pathlib import Path
from atende.connectors.email.receive import receive
from atende.channels.models import Channel, ChannelKind
from atende.tenancy.models import Organization
org = Organization.objects.get(slug="loja")
channel = Channel.objects.create(organization=org, kind=ChannelKind.EMAIL, name="Caixa SAC",
                                 settings={"address": "sac@loja.test", "in_protocol": "imap"})
receipt = receive(channel, Path("GARBAGE").read_bytes())
print(json.dumps({"channel": channel.pk, "status": receipt.status}))
"""


def test_admin_sees_quarantined_mail_and_downloads_it(browser: Browser, site: Site) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    garbage = CORPUS / "garbage.eml"
    seeded = json.loads(processes.run_django(SEED.replace("GARBAGE", str(garbage)), site.env))
    assert seeded["status"] == "quarantined"

    ana = sign_in(browser, site, "ana@loja.test", "en-US")
    ana.goto("/settings/channels/")
    row = ana.locator(".settings-table tr", has_text="Caixa SAC")
    expect(row.locator(".quarantine-count")).to_have_text("1")
    expect(row.locator("[data-mailbox-status]")).to_have_text("Polling")  # no watcher yet
    row.get_by_role("link", name="Log").click()
    expect(ana.locator("h1")).to_have_text("Channel log: Caixa SAC")
    expect(ana.locator(".mailbox-status")).to_contain_text("Polling every 1 minute.")
    event = ana.locator("tr.event-quarantined")
    expect(event).to_have_count(1)
    expect(event.locator(".log-reason")).to_have_text(
        "The event could not be read: it is empty, its format is broken or it does not say "
        "who sent it.")
    expect(event.locator(".badge")).to_have_text("Quarantined")
    ana.screenshot(path=str(SCREENSHOTS / "settings-channel-log.png"))
    with ana.expect_download() as download_info:
        event.get_by_role("link", name="Download .eml").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".eml")
    assert Path(download.path()).read_bytes() == garbage.read_bytes()
