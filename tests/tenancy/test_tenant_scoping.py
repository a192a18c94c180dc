"""Every row that belongs to a tenant carries it."""

from django.apps import apps

from atende.tenancy.models import Organization, TenantModel

# Models that are not owned by one tenant, and why.
NOT_TENANT_SCOPED = {
    "tenancy.Organization": "is the tenant",
    "tenancy.User": "a person may work in several organisations (Membership is scoped)",
    "tenancy.SignInCounter": "counts sign-in attempts before anyone is known to a tenant",
    "reports.RollupLock": "the organisation's own lock row: its one-to-one key is the tenant",
}


def atende_models() -> list[type]:
    return [
        m for m in apps.get_models(include_auto_created=False)
        if m.__module__.startswith("atende.")
    ]


def test_every_atende_model_is_tenant_scoped_or_explicitly_exempt() -> None:
    missing = []
    for model in atende_models():
        label = model._meta.label
        if label in NOT_TENANT_SCOPED:
            continue
        field = next((f for f in model._meta.fields if f.name == "organization"), None)
        if (
            field is None
            or field.related_model is not Organization
            or field.null
            or not issubclass(model, TenantModel)
        ):
            missing.append(label)
    assert not missing, f"models without a non-null organisation: {missing}"


def test_exemptions_still_exist() -> None:
    labels = {m._meta.label for m in atende_models()}
    assert set(NOT_TENANT_SCOPED) <= labels
