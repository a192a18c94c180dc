"""A real S3-compatible HTTP endpoint for tests: moto's server (`moto_server`) in its own
process on 127.0.0.1, reached by boto3 and django-storages exactly as a bucket would be."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.fakes.processes import free_port

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"  # moto accepts any key pair
REGION = "us-east-1"


@contextmanager
def s3_endpoint(log_dir: Path) -> Iterator[str]:
    port = free_port()
    command = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    assert command, "moto[server] is a dev dependency"
    with (log_dir / "moto.log").open("wb") as log:
        proc = subprocess.Popen([command, "-H", "127.0.0.1", "-p", str(port)],
                                stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError((log_dir / "moto.log").read_text()) from None
                    time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            proc.wait(10)


def client(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)


def storage_options(endpoint: str, bucket: str, **extra: Any) -> dict[str, Any]:
    """The STORAGES entry settings.py builds from ATENDE_S3_* for this endpoint."""
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": bucket, "endpoint_url": endpoint, "region_name": REGION,
        "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "default_acl": None,
        "querystring_auth": True, "querystring_expire": 60, "signature_version": "s3v4",
        **extra}}


def environment(endpoint: str, bucket: str) -> dict[str, str]:
    return {"ATENDE_S3_BUCKET": bucket, "ATENDE_S3_ENDPOINT_URL": endpoint,
            "ATENDE_S3_REGION": REGION, "ATENDE_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "ATENDE_S3_SECRET_ACCESS_KEY": SECRET_KEY}
