"""The portal's colours (PO-4) and the WCAG 2.x contrast check the settings screen warns
with: text on the primary colour (buttons, header) and on the secondary one (the page)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from atende.connectors.portal.models import PortalSettings

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
AA_NORMAL_TEXT = 4.5  # WCAG 2.x success criterion 1.4.3
BLACK, WHITE = "#000000", "#ffffff"


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(color: str) -> float:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    """From 1 (the same) to 21 (black on white)."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_on(background: str) -> str:
    """Black or white, whichever reads better on the colour."""
    return BLACK if contrast_ratio(background, BLACK) >= contrast_ratio(background, WHITE) \
        else WHITE


@dataclass(frozen=True)
class Theme:
    primary: str
    secondary: str
    on_primary: str
    on_secondary: str
    primary_ratio: float  # text on the primary colour
    secondary_ratio: float  # text on the secondary colour
    link_ratio: float  # the primary colour as link text on the secondary background

    @property
    def warnings(self) -> list[str]:
        return [name for name, ratio in (("primary", self.primary_ratio),
                                         ("secondary", self.secondary_ratio),
                                         ("links", self.link_ratio))
                if ratio < AA_NORMAL_TEXT]


def make_theme(primary: str, secondary: str) -> Theme:
    primary = primary if HEX.match(primary) else "#1f4e8c"
    secondary = secondary if HEX.match(secondary) else WHITE
    on_primary, on_secondary = text_on(primary), text_on(secondary)
    return Theme(primary, secondary, on_primary, on_secondary,
                 round(contrast_ratio(primary, on_primary), 2),
                 round(contrast_ratio(secondary, on_secondary), 2),
                 round(contrast_ratio(primary, secondary), 2))


def theme(portal: PortalSettings) -> Theme:
    return make_theme(portal.primary_color, portal.secondary_color)
