"""The base of the errors a domain service raises for its caller to show: a stable `code`,
a translated `message` and, when one input is at fault, its `field`. Imports nothing of
the domain, so any package may raise it and the API (api_errors) may map it to a status
without importing the package that raised it."""

from django.utils.functional import Promise


class DomainError(Exception):
    code = "invalid"

    def __init__(self, message: str | Promise, *, field: str = "", code: str = "") -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.field = field
        if code:
            self.code = code
