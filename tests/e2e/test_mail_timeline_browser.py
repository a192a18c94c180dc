"""An inbound e-mail in a real browser: the remote image is not fetched when the ticket
opens, only after "Show images" (and the page's policy lets exactly that origin in); the
inline image shows; the quoted history opens on demand; the .eml downloads."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import PASSWORD
from tests.fakes import processes

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def wait_until_true(page: Page, expression: str, timeout: float = 10.0) -> None:
    """Poll with page.evaluate: Playwright's wait_for_function evals its predicate in the
    page, which our CSP (no 'unsafe-eval') refuses when it has to poll (microsoft/playwright
    #7395, #36986), so it failed whenever the image was not there on the first check."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        time.sleep(0.05)


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")

SEED = """
import json
PNG = PNG_BYTES
from email.message import EmailMessage
from atende.connectors.email.receive import receive
from atende.channels.models import Channel, ChannelKind
from atende.tenancy.models import Membership, Organization, Role, Service, User
org = Organization.objects.create(name="Loja Mail", slug="loja-mail")
service = Service.objects.create(organization=org, name="Suporte")
ana = User.objects.create_user("ana@mail.test", "PASSWORD", name="Ana Lima")
Membership.objects.create(organization=org, user=ana, role=Role.ADMIN)
channel = Channel.objects.create(organization=org, kind=ChannelKind.EMAIL, name="Suporte",
                                 service=service, settings={"address": "suporte@loja.test"})
msg = EmailMessage()
msg["From"] = "Maria <maria@example.com>"
msg["To"] = "suporte@loja.test"
msg["Subject"] = "Foto"
msg["Message-ID"] = "<foto-1@example.com>"
msg.set_content("Veja a foto.")
msg.add_alternative('<p>Veja a foto <img src="cid:foto@maria" alt="inline" id="inline">'
                    '<img src="IMAGE_URL" alt="remote" id="remote"></p>'
                    '<p>On Tue, Maria wrote:</p><blockquote>Texto antigo</blockquote>',
                    subtype="html")
msg.get_payload()[1].add_related(PNG, maintype="image", subtype="png", cid="<foto@maria>")
receipt = receive(channel, msg.as_bytes())
from atende.tickets.models import Message
print(json.dumps({"ticket": Message.objects.get(pk=receipt.message_id).ticket_id,
                  "size": len(msg.as_bytes())}))
"""


class ImageServer(ThreadingHTTPServer):
    requests: list[str]


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def images() -> Iterator[ImageServer]:
    server = ImageServer(("127.0.0.1", 0), _Handler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def mail_site(tmp_path_factory: pytest.TempPathFactory,
              images: ImageServer) -> Iterator[tuple[str, int]]:
    base: Path = tmp_path_factory.mktemp("e2e-mail")
    env = processes.profile_env(base / "data")
    processes.manage(env, "migrate", "--noinput")
    url = f"http://127.0.0.1:{images.server_address[1]}/banner.png"
    code = SEED.replace("PASSWORD", PASSWORD).replace("IMAGE_URL", url) \
        .replace("PNG_BYTES", repr(PNG))
    seeded = json.loads(processes.run_django(code, env))
    web = processes.start_web(env, base)
    try:
        yield web.url, seeded["ticket"]
    finally:
        web.stop()


def test_remote_image_waits_for_the_agent_inline_image_quote_and_eml(
        browser: Browser, mail_site: tuple[str, int], images: ImageServer) -> None:
    url, ticket_id = mail_site
    context = browser.new_context(base_url=url, locale="en")
    page = context.new_page()
    page.goto("/login/")
    page.locator("input[name=username]").fill("ana@mail.test")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("button[type=submit].primary").click()
    expect(page.locator("#queue-live")).to_be_visible()

    page.goto(f"/tickets/{ticket_id}/")
    page.wait_for_load_state("networkidle")
    assert images.requests == []
    inline = page.locator("#tab-timeline .body img[alt=inline]")
    expect(inline).to_be_visible()
    wait_until_true(page, "document.querySelector('img[alt=inline]').naturalWidth > 0")
    quoted = page.get_by_text("Texto antigo")
    expect(quoted).to_be_hidden()
    page.locator("details.quoted summary").click()
    expect(quoted).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the original e-mail (.eml)").click()
    saved = download.value.path()
    assert b"Message-ID: <foto-1@example.com>" in Path(saved).read_bytes()

    page.get_by_role("link", name="Show images").click()
    wait_until_true(page, "document.querySelector('img[alt=remote]').naturalWidth > 0")
    assert images.requests == ["/banner.png"]
    context.close()
