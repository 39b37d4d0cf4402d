"""Size-bounded and gzip request bodies (SPEC 4): never inflate past the limit."""

from __future__ import annotations

import gzip
import io
import zlib

import orjson
import pytest

URL = "/data/group/type"


def gzipped(client, body: bytes, auth, **headers):
    return client.post(
        URL,
        data=body,
        headers={**auth, "Content-Encoding": "gzip", **headers},
        content_type="application/json",
    )


def test_gzip_body_is_accepted(client, auth, stored):
    body = gzip.compress(orjson.dumps([{"_id": str(i), "num": i} for i in range(50)]))
    response = gzipped(client, body, auth)
    assert response.status_code == 200, response.get_json()
    assert len(stored()) == 50


def test_x_gzip_is_gzip(client, auth, stored):
    body = gzip.compress(b'[{"_id": "a"}]')
    assert gzipped(client, body, auth, **{"Content-Encoding": "x-gzip"}).status_code == 200
    assert [r["_id"] for r in stored()] == ["a"]


def test_concatenated_gzip_members_are_one_body(client, auth, stored):
    body = gzip.compress(b'[{"_id": "a"},') + gzip.compress(b'{"_id": "b"}]')
    assert gzipped(client, body, auth).status_code == 200
    assert sorted(r["_id"] for r in stored()) == ["a", "b"]


def test_gzip_bomb_is_413_and_never_inflated(client, auth, settings, stored):
    # 1000x the limit once inflated, a few kilobytes on the wire.
    bomb = gzip.compress(b"[" + b" " * (settings.max_body_bytes * 1000) + b"]")
    assert len(bomb) < settings.max_body_bytes
    response = gzipped(client, bomb, auth)
    assert response.status_code == 413
    assert "decompressed" in response.get_json()["message"]
    assert stored() == []


def test_body_just_under_the_limit_once_inflated_is_fine(client, auth, settings):
    body = b"[" + b" " * (settings.max_body_bytes - 2) + b"]"
    assert gzipped(client, gzip.compress(body), auth).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"definitely not gzip",
        gzip.compress(b'[{"_id": "a"}]')[:-12],  # truncated
        zlib.compress(b"[]"),  # zlib, not gzip
    ],
)
def test_bad_gzip_is_400(client, auth, body, stored):
    response = gzipped(client, body, auth)
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("Error decompressing gzip body")
    assert stored() == []


def test_gzip_of_nothing_is_an_empty_body(client, auth):
    response = gzipped(client, gzip.compress(b""), auth)
    assert response.status_code == 400
    assert response.get_json()["message"] == "Expected JSON request body but received zero bytes."


def test_other_encodings_are_refused(client, auth):
    response = client.post(
        URL, data=b"[]", headers={**auth, "Content-Encoding": "br"}, content_type="application/json"
    )
    assert response.status_code == 415
    assert "br" in response.get_json()["message"]


def test_a_body_without_content_length_over_the_limit_is_413(client, auth, settings):
    """Chunked uploads carry no Content-Length: the limit still holds while reading."""
    response = client.post(
        URL,
        input_stream=io.BytesIO(b" " * (settings.max_body_bytes + 10)),
        headers=auth,
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )
    assert response.status_code == 413
    assert response.get_json()["message"] == "Request body is too large: the limit is 65536 bytes"


@pytest.mark.parametrize(
    ("body", "long"),
    [
        (b'{"n": 1234567890123456789}', True),  # 19 digits
        (b'{"n": -123456789012345678}', False),  # 18 digits: orjson reads it exactly
        (b'{"n": 1.23456789012345678}', False),  # the point splits the run
        (b'{"_id": "x1234567890123456789"}', True),  # inside a string too: re-read, no harm
        ('{"n": "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩"}'.encode(), False),  # only ASCII digits count
    ],
)
def test_long_number_check_finds_19_ascii_digits_in_a_row(body, long):
    from backdrop.write.request import has_long_number

    assert has_long_number(body) is long
