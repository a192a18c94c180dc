from django.tasks import task

from atende.reports import rollups


@task
def refresh_rollups(organization_id: int) -> None:
    rollups.drain(organization_id)


@task
def run_export(export_id: int) -> None:
    from atende.reports.exports import run

    run(export_id)
