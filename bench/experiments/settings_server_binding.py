"""psycopg server-side parameter binding (Django's `server_side_binding` option): psycopg
then prepares statements it has run 5 times on a connection, so PostgreSQL stops parsing
and planning the same ~16 statements on every create. (PostgreSQL only.)"""

from atende.settings import *  # noqa: F403
from atende.settings import DATABASES, IS_POSTGRES

if IS_POSTGRES:
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
