"""The data directory holds the database, the secret key, attachments and raw mails: readable
by the user Atende runs as only (a process: the settings create the directory)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.fakes import processes

STORE = """
import json
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from atende.connectors.email import raw_store
name = default_storage.save("attachments/1/nota.pdf", ContentFile(b"%PDF-1.4 x"))
raw = raw_store._store("mail/1/raw.eml", b"Subject: x\\r\\n\\r\\nbody", exists_ok=False)
print(json.dumps([default_storage.path(name), default_storage.path(raw)]))
"""


def mode(path: Path | str) -> int:
    return stat.S_IMODE(Path(path).stat().st_mode)


def test_the_data_dir_and_its_files_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = processes.profile_env(data_dir)
    processes.manage(env, "migrate", "--no-input")
    assert mode(data_dir) == 0o700
    database = data_dir / "atende.sqlite3"
    assert database.stat().st_size > 0 and mode(database) == 0o600
    assert mode(data_dir / "secret_key") == 0o600

    attachment, raw_mail = json.loads(processes.run_django(STORE, env).strip())
    assert mode(attachment) == 0o600 and mode(raw_mail) == 0o600
    assert mode(Path(attachment).parent) == 0o700
    for leftover in data_dir.glob("*.sqlite3*"):  # -wal/-shm take the database's mode
        assert mode(leftover) == 0o600, leftover
