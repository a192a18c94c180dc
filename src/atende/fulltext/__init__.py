"""Portuguese-aware full-text search (CORE-16): one engine for tickets, messages, contacts
and knowledge-base articles, on PostgreSQL (FTS, `portuguese` + `unaccent`, GIN) and on
SQLite (FTS5 kept by triggers).

Both profiles read words the same way (`text.fold`): accents dropped, the endings people
type without their accents (`-cao`, `-coes`, `-ao`, `-oes`) restored, so "configuracoes",
"configurações" and "configuração" meet on one stem. PostgreSQL stems with its own
Snowball `portuguese` stemmer, SQLite with the same algorithm in Python (snowballstemmer).
"""
