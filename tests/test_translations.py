"""Every text a person sees exists in Brazilian Portuguese: the catalogue covers every
string in the code, none is left untranslated, and the compiled .mo matches the .po."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import atende

PACKAGE = Path(atende.__file__).parent
PO = PACKAGE / "locale" / "pt_BR" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def po_entries(path: Path) -> dict[str, str]:
    """msgid → msgstr of a .po file (plain entries; plurals keep their first form)."""
    text = path.read_text(encoding="utf-8")
    entries: dict[str, str] = {}
    for block in text.split("\n\n"):
        if "#, fuzzy" in block and 'msgid ""\nmsgstr ""\n"Project' not in block:
            entries["<fuzzy>" + block] = ""
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block, re.M)
        if not msgid or not msgstr:
            continue
        key = "".join(re.findall(r'"(.*)"', msgid.group(1)))
        if key:
            entries[key] = "".join(re.findall(r'"(.*)"', msgstr.group(1)))
    return entries


def test_every_string_is_translated() -> None:
    untranslated = [k for k, v in po_entries(PO).items() if not v]
    assert not untranslated, f"untranslated or fuzzy: {untranslated[:20]}"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext (msgfmt) is not installed")
def test_compiled_catalogue_matches_the_po(tmp_path: Path) -> None:
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(fresh), str(PO)], check=True)
    with fresh.open("rb") as a, MO.open("rb") as b:
        assert gettext.GNUTranslations(a)._catalog == gettext.GNUTranslations(b)._catalog, \
            "run `atende manage compilemessages` and commit the .mo"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext (xgettext) is not installed")
def test_catalogue_has_every_string_of_the_code(tmp_path: Path) -> None:
    copy = tmp_path / "atende"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    # No settings: makemessages then writes into ./locale of the copy, never the real one.
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "pt_BR", "--no-obsolete"],
        cwd=copy, check=True, capture_output=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": ""},
    )
    extracted = set(po_entries(copy / "locale" / "pt_BR" / "LC_MESSAGES" / "django.po"))
    committed = set(po_entries(PO))
    missing = sorted(extracted - committed)
    assert not missing, f"run makemessages and translate: {missing[:20]}"
