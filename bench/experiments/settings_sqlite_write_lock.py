"""settings_sync_chain plus one write request at a time per process (for the embedded
profile on SQLite): compare with settings_sync_chain alone to see the write lock's effect
on the latency tail."""

from atende.settings import *  # noqa: F403
from atende.settings import MIDDLEWARE

MIDDLEWARE = [*MIDDLEWARE, "bench.experiments.middleware.SerializeWrites"]
