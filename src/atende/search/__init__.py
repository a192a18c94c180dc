"""One search over tickets, messages, contacts and knowledge-base articles (CORE-16), for
the workspace's results page and `GET /api/v1/search`. The index is atende.fulltext's."""
