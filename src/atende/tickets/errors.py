"""Errors the ticket services raise; the API maps `code` to an HTTP status."""

from django.utils.functional import Promise


class TicketError(Exception):
    code = "invalid"

    def __init__(self, message: str | Promise, *, field: str = "", code: str = "") -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.field = field
        if code:
            self.code = code


class InvalidTransition(TicketError):
    code = "invalid_transition"


class AttachmentTooLarge(TicketError):
    code = "attachment_too_large"
