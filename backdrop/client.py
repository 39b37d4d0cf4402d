"""The Python client for Backdrop's HTTP APIs (SPEC 15).

::

    from backdrop.client import DataSet

    sales = DataSet("http://localhost:3039/data/shop/sales", token,
                    read_url="http://localhost:3038/data/shop/sales")
    sales.post([{"_timestamp": "2024-01-01T00:00:00Z", "count": 3}])
    sales.get(period="week", collect="count:sum")   # the "data" of a read
    sales.upload("sales.xlsx", dry_run=True)        # the server's answer
    for record in sales.records(): ...             # the bulk export (SPEC 13)
    sales.delete("some-id"); sales.empty()

Writes go in chunks (``chunk_size`` records, default 1,000); a body over
2 KB is gzipped; a chunk is retried on 5xx and on connection errors with
exponential backoff and full jitter (``Retry-After`` is honoured). A retried
chunk never duplicates: every record without an ``_id`` is given one before
its first send (``id_for``), so a retry replaces what an earlier try stored.
A 4xx raises ``RequestRefused`` with the server's message at once.
"""

from __future__ import annotations

import gzip
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import orjson
import requests

GZIP_OVER = 2048
RETRIED_STATUSES = frozenset((500, 502, 503, 504))
IdFor = Callable[[int, dict[str, Any]], str]


class ClientError(Exception):
    """A request Backdrop did not carry out."""


class RequestRefused(ClientError):
    """A 4xx: the request is wrong and retrying will not help."""

    def __init__(self, status: int, body: Any, where: str = ""):
        self.status = status
        self.body = body
        self.where = where
        message = _server_message(body)
        super().__init__(f"{where}{status}: {message}" if where else f"{status}: {message}")


class Unavailable(ClientError):
    """5xx or no connection, still so after every retry."""


def _server_message(body: Any) -> str:
    if isinstance(body, dict):
        if body.get("messages"):
            return "; ".join(str(m) for m in body["messages"])
        if body.get("message"):
            detail = f" ({body['detail']})" if body.get("detail") else ""
            return f"{body['message']}{detail}"
    return str(body)[:500]


@dataclass(frozen=True)
class Retry:
    """Exponential backoff with full jitter: try n waits up to base·2ⁿ, capped."""

    attempts: int = 8
    base: float = 0.5
    cap: float = 30.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        if retry_after and retry_after.isascii() and retry_after.isdigit():
            return min(float(retry_after), self.cap)
        return random.uniform(0, min(self.cap, self.base * 2**attempt))  # noqa: S311 - jitter


def chunks(records: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    """The records in lists of ``size`` (the last may be shorter)."""
    chunk: list[dict[str, Any]] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def encode(records: list[dict[str, Any]]) -> tuple[bytes, dict[str, str]]:
    """A JSON body and its headers; gzipped when over ``GZIP_OVER`` bytes."""
    body = orjson.dumps(records)
    headers = {"Content-Type": "application/json"}
    if len(body) > GZIP_OVER:
        body = gzip.compress(body, compresslevel=5)
        headers["Content-Encoding"] = "gzip"
    return body, headers


def _call_ids() -> IdFor:
    """The default ``id_for``: a random prefix per ``post`` call and the record's
    index, so separate calls never collide and retries reuse the same ids."""
    prefix = os.urandom(9).hex()
    return lambda index, _record: f"{prefix}-{index}"


class DataSet:
    """One data set, written at ``url`` (the write app's ``/data/<group>/<type>``)
    and read at ``read_url`` (the read app's; default ``url``)."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        read_url: str | None = None,
        chunk_size: int = 1000,
        retry: Retry | None = None,
        timeout: float = 120.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.url = _with_scheme(url)
        self.read_url = _with_scheme(read_url or url)
        self.token = token
        self.chunk_size = chunk_size
        self.retry = retry or Retry()
        self.timeout = timeout
        self.session = session or requests.Session()
        self.sleep = sleep
        self.retries = 0  # retries made so far, for progress reports

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json", **(extra or {})}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def request(self, method: str, url: str, *, where: str = "", **kwargs: Any) -> Any:
        """One call with the retry rules; the parsed JSON body of its 2xx."""
        kwargs["headers"] = self._headers(kwargs.get("headers"))
        for attempt in range(self.retry.attempts):
            try:
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as error:
                failure, retry_after = f"no connection ({type(error).__name__})", None
            else:
                if response.status_code < 400:
                    return response.json() if response.content else None
                if response.status_code not in RETRIED_STATUSES:
                    raise RequestRefused(response.status_code, _body(response), where)
                failure = f"{response.status_code}: {_server_message(_body(response))}"
                retry_after = response.headers.get("Retry-After")
            if attempt + 1 < self.retry.attempts:
                self.retries += 1
                self.sleep(self.retry.delay(attempt, retry_after))
        raise Unavailable(f"{where}{failure}, after {self.retry.attempts} tries")

    def post(
        self,
        records: Iterable[dict[str, Any]],
        *,
        id_for: IdFor | None = None,
        on_chunk: Callable[[int], None] | None = None,
    ) -> int:
        """Store the records, in chunks; returns how many were sent.

        ``id_for(index, record)`` names each record without an ``_id`` (index:
        its position in ``records``); ``on_chunk(n)`` is called after each
        chunk of n records is stored."""
        name = id_for or _call_ids()
        sent = 0
        for chunk in chunks(records, self.chunk_size):
            for offset, record in enumerate(chunk):
                if "_id" not in record:
                    record["_id"] = name(sent + offset, record)
            body, headers = encode(chunk)
            where = f"records {sent + 1}–{sent + len(chunk)}: "
            self.request("POST", self.url, data=body, headers=headers, where=where)
            sent += len(chunk)
            if on_chunk:
                on_chunk(len(chunk))
        return sent

    def get(self, **params: Any) -> list[dict[str, Any]]:
        """A read query (SPEC 5.1 parameters; a list value repeats the key)."""
        answer = self.request("GET", self.read_url, params=params)
        return list(answer["data"])

    def empty(self) -> None:
        """Delete every record of the data set."""
        self.request("PUT", self.url, json=[])

    def delete(self, record_id: str) -> None:
        """Delete one record by ``_id``."""
        self.request("DELETE", f"{self.url}/{quote(record_id, safe='')}")

    def upload(
        self, path: str | Path, *, dry_run: bool = False, sheet: str | None = None
    ) -> dict[str, Any]:
        """Upload a CSV or Excel file (SPEC 8); the server's answer."""
        path = Path(path)
        params = {"dry_run": "true"} if dry_run else {}
        if sheet:
            params["sheet"] = sheet
        content = path.read_bytes()  # bytes, not a stream: a retry sends it again
        answer: dict[str, Any] = self.request(
            "POST", f"{self.url}/upload", params=params, files={"file": (path.name, content)}
        )
        return answer

    def uploads(self) -> list[dict[str, Any]]:
        """The data set's upload history, newest first."""
        return list(self.request("GET", f"{self.url}/uploads")["uploads"])

    def records(self, **params: Any) -> Iterator[dict[str, Any]]:
        """Every record, page by page, from the read app's bulk export (SPEC 13)."""
        url: str | None = f"{self.read_url}/records"
        while url:
            page = self.request("GET", url, params=params)
            params = {}  # ``next`` carries them on
            yield from page["results"]
            url = urljoin(url, page["next"]) if page.get("next") else None


def _with_scheme(url: str) -> str:
    """``localhost:3039/…`` as curl reads it: plain HTTP."""
    url = url.rstrip("/")
    return url if "://" in url else f"http://{url}"


def _body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text
