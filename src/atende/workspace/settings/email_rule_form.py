"""The form of one processing rule (EM-8) on the channel's "Processing rules" screen.

Choices come from the channel's organisation only (services, active agents); the header
field needs a header name; a regular expression must compile and pass the backtracking
guard the engine also applies."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from atende.connectors.email.models import ProcessingRule, RuleField, RuleOperator
from atende.connectors.email.rules import pattern_problem
from atende.tenancy.models import Organization, User
from atende.tickets.models import Priority
from atende.workspace.settings.forms import TenantModelForm

HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322 field name: printable, no colon


class ProcessingRuleForm(TenantModelForm):
    priority = forms.ChoiceField(label=_("Priority"), required=False,
                                 choices=[("", "—"), *Priority.choices])
    assignee = forms.ModelChoiceField(label=_("Assignee"), required=False,
                                      queryset=User.objects.none())

    class Meta:
        model = ProcessingRule
        fields = ["name", "field", "header_name", "operator", "value", "service", "category",
                  "priority", "tag", "assignee", "ignore", "no_auto_reply", "is_active"]
        help_texts = {
            "header_name": _("Only for the \"Header\" condition, e.g. X-Origin."),
            "value": _("Compared without regard to case."),
            "ignore": _("The mail is logged but no ticket is opened; later rules do not run."),
            "no_auto_reply": _("No automatic answer is sent for this mail."),
        }

    def __init__(self, organization: Organization, *args: Any, **kwargs: Any) -> None:
        super().__init__(organization, *args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            memberships__organization=organization, memberships__is_active=True,
        ).order_by("name", "email")
        self.fields["field"].initial = RuleField.SUBJECT

    def clean_header_name(self) -> str:
        value: str = self.cleaned_data.get("header_name", "").strip()
        if value and not HEADER_NAME.match(value):
            raise ValidationError(_("A header name has letters, digits and dashes only, "
                                    "e.g. X-Origin."))
        return value

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if data.get("field") == RuleField.HEADER and not data.get("header_name"):
            self.add_error("header_name", _("Say which header to look at."))
        if data.get("field") != RuleField.HEADER:
            data["header_name"] = ""
        value = data.get("value")
        if value and data.get("operator") == RuleOperator.REGEX:
            problem = pattern_problem(value)
            if problem:
                self.add_error("value", problem)
        acts = ("service", "category", "priority", "tag", "assignee", "ignore",
                "no_auto_reply")
        if not any(data.get(name) for name in acts):
            raise ValidationError(_("Choose at least one action for the rule."))
        return data
