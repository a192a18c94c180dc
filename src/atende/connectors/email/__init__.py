"""The e-mail channel: IMAP/POP3 in, SMTP out.

Read top-down: `inbound.py` (raw mail → `ParsedMail` → `InboundMessage`, helped by `mime.py`,
`thread_keys.py`, `loops.py`), `receive.py` (store raw, ingest or quarantine), `imap.py` /
`pop3.py` (mailbox pollers), `outbound.py` + `compose.py` (SMTP), `client.py` (connections),
`checks.py` ("Test settings"), `settings_form.py`, `tasks.py`.
"""
