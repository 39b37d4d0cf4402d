"""Size-bounded request bodies, gzip included (SPEC 4).

The body is read at most one byte past ``BACKDROP_MAX_BODY_BYTES``; a gzip
body is inflated incrementally with ``max_length`` so a gzip bomb stops at
the limit instead of filling memory. Concatenated gzip members are inflated
from a bounded window of the input (linear time however many there are), and
more than ``MAX_GZIP_MEMBERS`` of them is refused: no real client sends that.

JSON is parsed by orjson, which reads an integer beyond 64 bits as a float;
a body with such a long run of digits is re-read by the standard library so
the exact integer reaches record validation, which refuses it (values are
signed 64-bit on every engine); other bodies keep orjson's float.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import orjson
from flask import request
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from backdrop.errors import BackdropError, BadRequest, PayloadTooLarge


class UnsupportedEncoding(BackdropError):
    status = 415
    default_message = "Unsupported Content-Encoding: only gzip is accepted"


class RequestTimeout(BackdropError):
    status = 408
    default_message = (
        "The request body stopped arriving: each part must arrive within 10 s (backdrop/serving.py)"
    )


def _too_large(limit: int, what: str = "Request body") -> PayloadTooLarge:
    return PayloadTooLarge(f"{what} is too large: the limit is {limit} bytes")


MAX_GZIP_MEMBERS = 1000
_WINDOW = 1 << 16  # input handed to the inflater at once
# 19 digits or more: where orjson may read an integer as a float (-2**63 - 1).
# Found as a run of "0"s once every digit is mapped to "0" and every other byte
# to " ": one C pass, about 8x faster than the regex ``\d{19}`` on a body of
# numbers and timestamps (the check runs on every record batch).
_DIGITS_AS_ZERO = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
_LONG_RUN = b"0" * 19


def has_long_number(data: bytes) -> bool:
    """Whether ``data`` holds 19 or more ASCII digits in a row."""
    return _LONG_RUN in data.translate(_DIGITS_AS_ZERO)


def _gunzip(data: bytes, limit: int) -> bytes:
    """Inflate gzip ``data`` (members may be concatenated) to at most ``limit`` bytes."""
    out = bytearray()
    view, position, members = memoryview(data), 0, 0
    try:
        while position < len(data):
            members += 1
            if members > MAX_GZIP_MEMBERS:
                raise BadRequest(
                    f"Error decompressing gzip body: more than {MAX_GZIP_MEMBERS} gzip members"
                )
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            while not inflater.eof and position < len(data):
                window = view[position : position + _WINDOW]
                out += inflater.decompress(window, limit + 1 - len(out))
                if len(out) > limit or inflater.unconsumed_tail:
                    raise _too_large(limit, "Request body once decompressed")
                position += len(window) - len(inflater.unused_data)
            if not inflater.eof:
                raise BadRequest("Error decompressing gzip body: it is truncated")
    except zlib.error as error:
        raise BadRequest(f"Error decompressing gzip body: {error}") from None
    return bytes(out)


def _read_at_most(limit: int) -> bytes:
    """Read the stream to its end, or 413 once it passes ``limit`` (chunked
    bodies have no Content-Length to check up front)."""
    data = bytearray()
    try:
        while chunk := request.stream.read(min(1 << 16, limit + 1 - len(data))):
            data += chunk
            if len(data) > limit:
                raise _too_large(limit)
    except RequestEntityTooLarge:  # werkzeug's own guard (MAX_CONTENT_LENGTH) got there first
        raise _too_large(limit) from None
    except ClientDisconnected as error:  # werkzeug's word for a short or stalled body
        if isinstance(error.__cause__ or error.__context__, TimeoutError):
            raise RequestTimeout() from None  # the serving model's read deadline
        raise BadRequest("The request body ended before the length it announced") from None
    return bytes(data)


def read_body(limit: int) -> bytes:
    """The request body, decompressed, or 413 if it is (or inflates) over ``limit``."""
    length = request.content_length
    if length is not None and length > limit:
        raise _too_large(limit)
    data = _read_at_most(limit)
    encoding = (request.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return _gunzip(data, limit)
    if encoding != "identity":
        raise UnsupportedEncoding(
            f"Unsupported Content-Encoding: {encoding} (only gzip is accepted)"
        )
    return data


def read_json(limit: int, exact_integers: bool = False) -> Any:
    """The request body parsed as JSON, with SPEC 4's messages for bad bodies.
    ``exact_integers``: integers beyond 64 bits stay integers (for records,
    whose validation refuses them) rather than becoming floats."""
    data = read_body(limit)
    if not data:
        raise BadRequest("Expected JSON request body but received zero bytes.")
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"Error parsing JSON: {error}") from None
    if exact_integers and has_long_number(data):
        return json.loads(data)  # exact integers; orjson has checked the syntax
    return body
