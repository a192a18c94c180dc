"""Errors the ticket services raise; the API maps `code` to an HTTP status (api_errors)."""

from atende.errors import DomainError


class TicketError(DomainError):
    code = "invalid"


class InvalidTransition(TicketError):
    code = "invalid_transition"


class AttachmentTooLarge(TicketError):
    code = "attachment_too_large"
