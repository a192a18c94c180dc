"""Reports in a real browser (RP-1, RP-2): customers write; the administrator opens the
channel dashboard, filters it by channel, reads a chart and the table beneath it, and
exports the report to Excel: the progress bar reaches 100 % and the file opens."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Site
from tests.e2e.test_workspace_journeys import SCREENSHOTS, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_dashboard_filters_chart_table_and_excel_export(browser: Browser, site: Site) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for n in range(3):
        site.customer_writes(f"Pedido {n}", "Onde está meu pedido?")
    ana = sign_in(browser, site, "ana@loja.test", "en-US")
    ana.get_by_role("link", name="Reports").click()
    expect(ana.locator("h1")).to_contain_text("Channel dashboard")
    ana.locator("select[name=channel]").select_option(label="Loja online")
    ana.get_by_role("button", name="Show").click()
    expect(ana).to_have_url(re.compile(r"channel=\d+"))
    chart = ana.locator("#chart-opened")
    expect(chart).to_have_attribute("data-drawn", "1")
    beneath = ana.locator("[data-chart-table=opened] tbody tr").last
    expect(beneath).to_contain_text("3")
    per_channel = ana.locator(".report-section table").first
    expect(per_channel.locator("tbody tr").first).to_contain_text("Loja online")
    ana.screenshot(path=str(SCREENSHOTS / "reports-dashboard.png"), full_page=False)

    ana.get_by_role("button", name="Export to Excel").click()
    row = ana.locator(".export-row").first
    expect(row.locator(".export-percent")).to_have_text("100 %")
    expect(row.locator("progress")).to_have_attribute("value", "100")
    with ana.expect_download() as info:
        row.get_by_role("link", name="Download").click()
    book = load_workbook(io.BytesIO(info.value.path().read_bytes()), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    # The seed's organisation writes its files in Portuguese.
    assert rows[2][:2] == ("Canal", "Abertos")
    assert rows[3][:2] == ("Loja online", 3)
