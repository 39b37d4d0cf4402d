"""Fetching a source's file over HTTP with limits (SPEC 12).

Each hop resolves the host itself, refuses it unless every address it
resolves to is allowed (public, unless private ones are allowed), then
connects to that checked address (the Host header and TLS name stay the
URL's), so neither a redirect nor a second DNS answer can lead the fetch to
an address that was not checked. Redirects are followed by hand, at most
``MAX_REDIRECTS``. The body is spooled to a temporary file while its
SHA-256 is computed, and the fetch stops once it passes ``max_bytes`` or
its total time passes ``TOTAL_TIMEOUTS`` times the timeout.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.exceptions import HTTPError, TimeoutError

from backdrop.settings import Settings

MAX_REDIRECTS = 5
TOTAL_TIMEOUTS = 10
CHUNK = 1 << 16
REDIRECTS = (301, 302, 303, 307, 308)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchFailed(Exception):
    """The fetch did not give a file; the message says why (no secrets in it)."""

    def __init__(self, message: str, http_status: int | None = None):
        super().__init__(message)
        self.http_status = http_status


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    timeout: float
    allow_private: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            settings.sources_max_bytes,
            settings.sources_timeout_seconds,
            settings.sources_allow_private,
        )


@dataclass
class Fetched:
    """A fetched file (``body`` at its start) or, with ``not_modified``, none."""

    http_status: int
    url: str
    etag: str | None = None
    last_modified: str | None = None
    sha256: str = ""
    size: int = 0
    body: IO[bytes] | None = None
    not_modified: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def public_only(address: Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    return bool((mapped or address).is_global)


def _resolve(host: str, port: int, allowed: Callable[[Address], bool]) -> str:
    """One checked address of ``host``; every address it resolves to must be allowed."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchFailed(f"cannot resolve {host}: {error}") from None
    addresses = [ipaddress.ip_address(str(answer[4][0]).split("%")[0]) for answer in answers]
    refused = [address for address in addresses if not allowed(address)]
    if refused or not addresses:
        raise FetchFailed(
            f"refused to fetch from {host}: it resolves to {refused[0] if refused else 'nothing'}, "
            "a private, loopback or link-local address (BACKDROP_SOURCES_ALLOW_PRIVATE=true "
            "allows them)"
        )
    return str(addresses[0])


def _pool(url: str, limits: Limits, allowed: Callable[[Address], bool]) -> Any:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchFailed(f"cannot fetch {url}: only http:// and https:// URLs")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _resolve(parts.hostname, port, allowed)
    timeout = urllib3.Timeout(connect=limits.timeout, read=limits.timeout)
    if parts.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address,
            port,
            timeout=timeout,
            retries=False,
            server_hostname=parts.hostname,
            assert_hostname=parts.hostname,
            cert_reqs="CERT_REQUIRED",
        )
    return urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)


def _spool(response: Any, limits: Limits, deadline: float) -> tuple[IO[bytes], str, int]:
    declared = response.headers.get("Content-Length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limits.max_bytes:
        raise FetchFailed(
            f"the file is larger than the limit of {limits.max_bytes} bytes "
            f"(Content-Length {declared})",
            response.status,
        )
    spool = tempfile.SpooledTemporaryFile(max_size=1 << 22)  # noqa: SIM115 -- the caller closes it
    digest, size = hashlib.sha256(), 0
    try:
        for chunk in response.stream(CHUNK):
            size += len(chunk)
            if size > limits.max_bytes:
                raise FetchFailed(
                    f"the file is larger than the limit of {limits.max_bytes} bytes",
                    response.status,
                )
            if time.monotonic() > deadline:
                raise FetchFailed("the fetch took too long", response.status)
            digest.update(chunk)
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, digest.hexdigest(), size


def fetch(
    url: str,
    headers: dict[str, str],
    limits: Limits,
    allowed: Callable[[Address], bool] | None = None,
) -> Fetched:
    """GET ``url`` (``headers`` may carry If-None-Match / If-Modified-Since)."""
    if allowed is None:
        allowed = (lambda address: True) if limits.allow_private else public_only
    deadline = time.monotonic() + limits.timeout * TOTAL_TIMEOUTS
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        pool = _pool(url, limits, allowed)
        target = parts.path or "/"
        if parts.query:
            target += f"?{parts.query}"
        host = parts.netloc.rpartition("@")[2]
        try:
            response = pool.urlopen(
                "GET",
                target,
                headers={**headers, "Host": host},
                redirect=False,
                preload_content=False,
            )
        except TimeoutError:
            raise FetchFailed(f"{url} timed out: no answer within {limits.timeout:g} s") from None
        except HTTPError as error:
            raise FetchFailed(f"cannot fetch {url}: {type(error).__name__}: {error}") from None
        try:
            if response.status in REDIRECTS and response.headers.get("Location"):
                url = urljoin(url, response.headers["Location"])
                continue
            found = Fetched(response.status, url, response.headers.get("ETag"),
                            response.headers.get("Last-Modified"))  # fmt: skip
            if response.status == 304:
                found.not_modified = True
                return found
            if not 200 <= response.status < 300:
                raise FetchFailed(f"HTTP {response.status} from {url}", response.status)
            try:
                found.body, found.sha256, found.size = _spool(response, limits, deadline)
            except TimeoutError:
                raise FetchFailed(
                    f"{url} timed out: no data for {limits.timeout:g} s", response.status
                ) from None
            except HTTPError as error:
                raise FetchFailed(f"reading {url} failed: {type(error).__name__}", 200) from None
            return found
        finally:
            response.release_conn()
            pool.close()
    raise FetchFailed(f"too many redirects (more than {MAX_REDIRECTS})")
