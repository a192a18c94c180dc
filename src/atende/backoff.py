"""Exponential backoff shared by webhook deliveries and channel sends (outbound messages)."""

import random
from datetime import timedelta

BASE_SECONDS = 10
MAX_SECONDS = 3600


def next_delay(attempt: int) -> timedelta:
    """Delay before attempt `attempt + 1`: 10 s, 20 s, 40 s … capped at 1 h, ±10 % jitter."""
    seconds = min(BASE_SECONDS * (2 ** max(attempt - 1, 0)), MAX_SECONDS)
    jitter = seconds * 0.1 * (2 * random.random() - 1)  # noqa: S311 - not security
    return timedelta(seconds=seconds + jitter)
