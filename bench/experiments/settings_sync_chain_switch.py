"""settings_sync_chain + settings_switch_interval together."""

import sys

from bench.experiments.settings_sync_chain import *  # noqa: F403

sys.setswitchinterval(0.0005)
