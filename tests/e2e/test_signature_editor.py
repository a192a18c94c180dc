"""EM-6 in a real browser: an administrator opens the e-mail channel's signature editor
(Quill under our CSP), makes text bold, inserts an image, sees both in the preview of the
customer's mail, saves, reloads: still there."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Browser, expect

from tests.connectors.email.conftest import png
from tests.e2e.conftest import Site
from tests.e2e.test_workspace_journeys import SCREENSHOTS, sign_in
from tests.fakes import processes

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

SEED = """
import json
from atende.channels.models import Channel, ChannelKind
from atende.tenancy.models import Organization
org = Organization.objects.get(slug="loja")
channel = Channel.objects.create(organization=org, kind=ChannelKind.EMAIL, name="E-mail loja",
                                 settings={"address": "suporte@loja.test"})
print(json.dumps({"channel": channel.pk}))
"""


def test_signature_with_bold_text_and_an_image(browser: Browser, site: Site) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    channel = json.loads(processes.run_django(SEED, site.env))["channel"]
    ana = sign_in(browser, site, "ana@loja.test", "en-US")
    problems: list[str] = []
    ana.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    ana.on("pageerror", lambda e: problems.append(str(e)))

    ana.goto(f"/settings/channels/{channel}/")
    ana.get_by_role("link", name="Edit the signature").click()
    expect(ana.locator("h1")).to_have_text("Signature of E-mail loja")
    editor = ana.locator("#signature-quill .ql-editor")
    editor.click()
    ana.keyboard.type("Ana Lima, Loja Exemplo")
    ana.keyboard.press("Control+A")
    ana.get_by_role("button", name="Bold").click()
    # Size and alignment leave as inline styles (mail clients ignore classes).
    ana.locator("#signature-toolbar .ql-size .ql-picker-label").click()
    ana.locator('#signature-toolbar .ql-size .ql-picker-item[data-value="18px"]').click()
    ana.locator("#signature-toolbar .ql-align .ql-picker-label").click()
    ana.locator('#signature-toolbar .ql-align .ql-picker-item[data-value="center"]').click()
    ana.keyboard.press("End")
    ana.keyboard.press("Enter")
    with ana.expect_file_chooser() as chooser:
        ana.get_by_role("button", name="Insert image").click()
    chooser.value.set_files({"name": "logo.png", "mimeType": "image/png", "buffer": png()})
    expect(editor.locator("img")).to_have_attribute(
        "src", re.compile(rf"/settings/channels/{channel}/signature/images/\d+/$"))
    expect(editor.locator("strong")).to_have_text("Ana Lima, Loja Exemplo")

    preview = ana.frame_locator("#signature-preview iframe")
    expect(preview.locator("strong")).to_have_text("Ana Lima, Loja Exemplo")
    expect(preview.locator("img")).to_have_attribute("src", re.compile(r"^data:image/png;"))
    expect(preview.locator("body")).to_contain_text("Your order left our warehouse")
    expect(preview.get_by_text("Ana Lima, Loja Exemplo")).to_have_css("font-size", "18px")
    expect(preview.locator("p", has_text="Ana Lima")).to_have_css("text-align", "center")
    ana.screenshot(path=str(SCREENSHOTS / "email-signature-editor.png"))

    ana.get_by_role("button", name="Save signature").click()
    expect(ana.locator(".flash")).to_contain_text("Signature saved.")
    ana.reload()
    expect(editor.locator("strong")).to_have_text("Ana Lima, Loja Exemplo")
    expect(editor.locator("p", has_text="Ana Lima")).to_have_css("text-align", "center")
    expect(editor.locator("img")).to_have_attribute(
        "src", re.compile(rf"/settings/channels/{channel}/signature/images/\d+/$"))
    assert editor.locator("img").evaluate("img => img.naturalWidth") == 1
    expect(preview.locator("img")).to_have_attribute("src", re.compile(r"^data:image/png;"))
    assert not problems, problems
