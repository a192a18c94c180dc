"""The workspace's fixtures (signed-in agents, tickets opened through the services)."""

from tests.workspace.conftest import make_agent, make_ticket

__all__ = ["make_agent", "make_ticket"]
