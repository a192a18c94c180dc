from django.tasks import task

from atende.csat import scheduling


@task
def send_invitation(survey_id: int) -> None:
    """Send one survey invitation when due; a task that finds it sent, answered or not yet
    due does nothing (the sweep in `atende.jobs` sends what a restart lost)."""
    scheduling.send(survey_id)
