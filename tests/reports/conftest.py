"""Report tests open tickets through the real services, as the workspace tests do."""

from tests.workspace.conftest import make_ticket

__all__ = ["make_ticket"]
