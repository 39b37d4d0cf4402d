"""Files waiting between the upload form and the confirm button.

The verify step (a dry run) and the confirm step are two requests, possibly
on two workers, so the file waits on this machine's disk, in
``<temp dir>/backdrop-ui-uploads/`` (``TMPDIR`` moves it), under an
unguessable id with a small JSON description beside it. A file waits at most
``MAX_WAIT``; older ones are removed whenever a new one arrives, and a
confirmed one at once.
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from werkzeug.datastructures import FileStorage

from backdrop.core import uploads
from backdrop.core.data_sets import DataSetConfig
from backdrop.core.files import ParseOptions, named_format
from backdrop.errors import NotFound
from backdrop.settings import Settings

MAX_WAIT = 3600  # seconds
ID_LENGTH = 22


def directory() -> Path:
    path = Path(tempfile.gettempdir()) / "backdrop-ui-uploads"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


@dataclass(frozen=True)
class Staged:
    """One waiting file: which data set it is for and how to read it."""

    id: str
    data_set: str
    filename: str | None
    sheet: str | None
    format: str | None
    size: int
    staged_at: float

    @property
    def path(self) -> Path:
        return directory() / f"{self.id}.file"


def _clean(now: float) -> None:
    for meta in directory().glob("*.json"):
        try:
            if now - meta.stat().st_mtime > MAX_WAIT:
                meta.unlink(missing_ok=True)
                meta.with_suffix(".file").unlink(missing_ok=True)
        except OSError:
            continue  # another worker removed it first


def stage(
    config: DataSetConfig, part: FileStorage, sheet: str | None, file_format: str | None
) -> Staged:
    now = time.time()
    _clean(now)
    staged_id = secrets.token_urlsafe(16)
    path = directory() / f"{staged_id}.file"
    with path.open("wb") as target:
        shutil.copyfileobj(part.stream, target, 1 << 20)
    staged = Staged(
        staged_id,
        config.name,
        Path(part.filename).name if part.filename else None,
        sheet or None,
        file_format or None,
        path.stat().st_size,
        now,
    )
    path.with_suffix(".json").write_text(json.dumps(asdict(staged)))
    return staged


def find(config: DataSetConfig, staged_id: str) -> Staged:
    """The waiting file for ``config``, or a 404 saying to choose it again."""
    gone = NotFound(
        "This upload is no longer waiting to be confirmed",
        detail=f"files wait {MAX_WAIT // 60} minutes after they are chosen; choose it again",
    )
    if len(staged_id) != ID_LENGTH or not all(c.isalnum() or c in "-_" for c in staged_id):
        raise gone
    meta = directory() / f"{staged_id}.json"
    try:
        staged = Staged(**json.loads(meta.read_text()))
    except (OSError, ValueError, TypeError):
        raise gone from None
    if staged.data_set != config.name or time.time() - staged.staged_at > MAX_WAIT:
        raise gone
    return staged


def discard(staged: Staged) -> None:
    staged.path.unlink(missing_ok=True)
    staged.path.with_suffix(".json").unlink(missing_ok=True)


def upload_of(config: DataSetConfig, staged: Staged, settings: Settings) -> uploads.Upload:
    """The waiting file as the core's ``Upload``, parsed as the upload route would."""
    options = ParseOptions(
        sheet=staged.sheet,
        filters=tuple(config.upload_filters),
        max_rows=settings.max_upload_rows,
        max_bytes=settings.max_upload_bytes,
        max_unzipped_bytes=settings.max_upload_unzipped_bytes,
    )
    declared = staged.format
    if declared is None and named_format(staged.filename) is None:
        declared = config.upload_format  # a name without a known extension

    @contextmanager
    def opened() -> Iterator[IO[bytes]]:
        with staged.path.open("rb") as stream:
            yield stream

    return uploads.Upload(opened, staged.filename, options, declared)  # type: ignore[arg-type]
