"""Placeholder replaced by the API channel connector."""
