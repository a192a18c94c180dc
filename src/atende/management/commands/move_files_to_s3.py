"""Copy the files kept on the local disk to the S3-compatible storage now configured.

Run it once after setting ATENDE_S3_BUCKET (docs/storage.md). Stored names do not change, so
no database row is touched. Safe to run again, and to interrupt: a file already in the
bucket with the same size is skipped. `--delete` removes each local copy only after the
bucket holds it whole.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Copy the files of the local media directory to the configured S3 bucket."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", default=str(settings.MEDIA_ROOT),
                            help="the local directory to copy (default: the media directory)")
        parser.add_argument("--delete", action="store_true",
                            help="remove each local file once the bucket holds it whole")
        parser.add_argument("--dry-run", action="store_true",
                            help="list what would be copied, copy nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        target = storages["default"]
        if isinstance(target, FileSystemStorage):
            raise CommandError("ATENDE_S3_BUCKET is not set: the files are already where "
                               "the storage is (the local disk).")
        source = Path(options["source"])
        if not source.is_dir():
            raise CommandError(f"{source} is not a directory")
        copied = skipped = failed = 0
        for path in sorted(_files(source)):
            name = path.relative_to(source).as_posix()
            size = path.stat().st_size
            try:
                if target.exists(name) and target.size(name) == size:
                    skipped += 1
                elif options["dry_run"]:
                    self.stdout.write(f"would copy {name}")
                    copied += 1
                    continue
                else:
                    with path.open("rb") as handle:
                        stored = target.save(name, File(handle, name=path.name))
                    if stored != name or target.size(name) != size:
                        raise OSError(f"the bucket holds {stored!r} with another size")
                    copied += 1
            except Exception as exc:  # one bad file must not stop the rest
                failed += 1
                self.stderr.write(f"failed {name}: {exc}")
                continue
            if options["delete"] and not options["dry_run"]:
                path.unlink()
        verb = "would copy" if options["dry_run"] else "copied"
        self.stdout.write(f"{verb} {copied}, already in the bucket {skipped}, failed {failed}")
        if failed:
            raise CommandError(f"{failed} file(s) were not copied; run the command again")


def _files(root: Path) -> list[Path]:
    found: list[Path] = []
    for directory, _dirs, names in os.walk(root):
        found.extend(Path(directory) / n for n in names)
    return found
