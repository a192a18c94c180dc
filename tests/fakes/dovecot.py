"""A throw-away Dovecot (IMAP + POP3) on free ports of 127.0.0.1, as in
`recipes/dovecot-for-tests.md`. Any user name logs in with PASSWORD and gets a fresh Maildir,
so every test takes its own mailbox.

    with Dovecot() as server:
        server.append("t1@example.com", raw_mail)
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.fakes.processes import free_port

DOVECOT = "/usr/sbin/dovecot"
PASSWORD = "secret"
CONFIG = """protocols = imap pop3
listen = 127.0.0.1
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
ssl = no
first_valid_uid = 8
first_valid_gid = 8
disable_plaintext_auth = no
auth_mechanisms = plain login{oauth_mechanisms}
# Failed logins are part of the tests: no delay, no per-IP penalty.
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
mail_location = maildir:{dir}/mail/%u
{oauth_passdb}passdb {{
  driver = static
  args = password={password}
  mechanisms = plain login
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={dir}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""
# Access tokens are checked at the fake provider's RFC 7662 introspection endpoint.
OAUTH_PASSDB = """passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {dir}/dovecot-oauth2.conf.ext
}}
"""
OAUTH_CONFIG = """introspection_mode = post
introspection_url = {url}
force_introspection = yes
username_attribute = email
active_attribute = active
active_value = true
timeout_msecs = 5000
"""


def available() -> bool:
    return os.path.exists(DOVECOT) and os.geteuid() == 0


class Dovecot:
    """`oauth2_introspection_url`: also accept XOAUTH2/OAUTHBEARER logins whose access token
    that endpoint says is active (Dovecot's oauth2 passdb); PLAIN with PASSWORD still works."""

    def __init__(self, oauth2_introspection_url: str = "") -> None:
        self.oauth2_introspection_url = oauth2_introspection_url
        self.dir = Path(tempfile.mkdtemp(prefix="atende-dovecot-"))
        self.imap_port = free_port()
        self.pop3_port = free_port()
        self.host = "127.0.0.1"

    def __enter__(self) -> Dovecot:
        self.dir.chmod(0o755)
        (self.dir / "mail").mkdir()
        shutil.chown(self.dir / "mail", "mail", "mail")
        return self._start()

    def _start(self, extra_config: str = "") -> Dovecot:
        config = self.dir / "dovecot.conf"
        oauth = self.oauth2_introspection_url
        if oauth:
            (self.dir / "dovecot-oauth2.conf.ext").write_text(OAUTH_CONFIG.format(url=oauth))
        config.write_text(CONFIG.format(
            dir=self.dir, password=PASSWORD, imap=self.imap_port, pop3=self.pop3_port,
            oauth_mechanisms=" xoauth2 oauthbearer" if oauth else "",
            oauth_passdb=OAUTH_PASSDB.format(dir=self.dir) if oauth else "") + extra_config)
        # Output to a file, not a pipe: the daemon keeps its inherited descriptors open.
        with (self.dir / "start.log").open("wb") as out:
            subprocess.run([DOVECOT, "-c", str(config)], check=True, stdout=out,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection((self.host, self.imap_port), timeout=1).close()
                socket.create_connection((self.host, self.pop3_port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("dovecot did not start: " + self.log())

    def __exit__(self, *exc: object) -> None:
        self._kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _kill(self) -> None:
        pid_file = self.dir / "run" / "master.pid"
        if pid_file.exists():
            # The daemon leads its own process group (it called setsid): end the master and
            # its children together, at once; a test mailbox needs no graceful shutdown.
            pid = int(pid_file.read_text().strip())
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            pid_file.unlink(missing_ok=True)

    def restart(self, extra_config: str = "") -> None:
        """Kill the server (every open connection drops) and start it again on the same
        ports and mail, with `extra_config` appended to the configuration."""
        self._kill()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until the old listener is gone
            try:
                socket.create_connection((self.host, self.imap_port), timeout=0.2).close()
                time.sleep(0.05)
            except OSError:
                break
        self._start(extra_config)

    def deliver(self, user: str, raw: bytes) -> Path:
        """Drop a mail into the user's Maildir `new/`, as a local delivery agent would (the
        mailbox must exist: the user logged in once)."""
        new = self.dir / "mail" / user / "new"
        name = f"{time.time_ns()}.{os.getpid()}.atende-test"
        tmp = self.dir / "mail" / user / "tmp" / name
        tmp.write_bytes(raw)
        shutil.chown(tmp, "mail", "mail")
        return tmp.rename(new / name)

    def log(self) -> str:
        try:
            return (self.dir / "dovecot.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def imap(self, user: str) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.imap_port, timeout=10)
        conn.login(user, PASSWORD)
        return conn

    def append(self, user: str, raw: bytes, folder: str = "INBOX", flags: str = "") -> None:
        conn = self.imap(user)
        try:
            if folder != "INBOX":
                conn.create(folder)
            typ, data = conn.append(folder, flags or None, None, raw)
            assert typ == "OK", data
        finally:
            conn.logout()

    def flags(self, user: str, folder: str = "INBOX") -> list[bytes]:
        """The flags of every message in `folder`, in UID order."""
        conn = self.imap(user)
        try:
            conn.select(folder)
            _typ, data = conn.uid("FETCH", "1:*", "(FLAGS)")
            return [d for d in data if isinstance(d, bytes)]
        finally:
            conn.logout()
