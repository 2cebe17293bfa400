"""Bytes that are not a document we read: malformed payloads, hostile XML, oversize documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import MalformedPayload, PayloadTooLarge
from tests.unit.adapters.helpers import example, failure

GREFFE = example("greffe-1.xml")
NOTAIRE = example("notaire-1.xml")
AVOCAT = example("avocat-1.json")
XML_SOURCES = ["greffe", "notaire"]


@pytest.mark.parametrize(
    ("source", "data"),
    [
        ("greffe", b"this is not XML"),
        ("greffe", b""),
        ("greffe", b"   \n"),
        ("greffe", GREFFE[: len(GREFFE) // 2].encode()),  # truncated
        ("greffe", GREFFE.encode("latin-1")),  # declared UTF-8, é in Latin-1
        ("greffe", GREFFE.encode("utf-16")),
        ("greffe", AVOCAT.encode()),
        (
            "notaire",
            NOTAIRE.replace(
                '<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>'
            ).encode("latin-1"),
        ),
        ("notaire", NOTAIRE.replace("</Office>", "</Offfice>", 1).encode()),
        ("avocat", b"not json"),
        ("avocat", b""),
        ("avocat", AVOCAT[:-20].encode()),  # truncated
        ("avocat", AVOCAT.encode("utf-16")),
        ("avocat", AVOCAT.replace("Aurélie", "Aur\xe9lie").encode("latin-1", errors="replace")),
        ("avocat", b'{"version": 1, "version": 1}'),  # duplicate key
        ("avocat", b'{"version": NaN}'),
        ("avocat", b"[" * 100_000),  # nested too deeply
        ("avocat", b'{"version": ' + b"1" * 5000 + b"}"),  # beyond Python's integer-digits guard
        ("avocat", GREFFE.encode()),
    ],
)
def test_malformed_payload(source: str, data: bytes) -> None:
    error = failure(source, data)
    assert isinstance(error, MalformedPayload)
    assert [str(i.code) for i in error.issues] == ["malformed-payload"]


def test_duplicate_json_key_names_the_key_not_a_value() -> None:
    error = failure(
        "avocat", AVOCAT.replace('"reference_envoi"', '"version": 2, "reference_envoi"', 1).encode()
    )
    assert isinstance(error, MalformedPayload)
    assert "version" in error.message


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-CONTENT-4711", encoding="utf-8")
    return path


def _hostile(source: str, doctype: str, body_value: str) -> bytes:
    text = GREFFE if source == "greffe" else NOTAIRE
    text = text.replace(
        '<?xml version="1.0" encoding="UTF-8"?>\n', f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n'
    )
    return text.replace("<Nature>", f"<Nature>{body_value}", 1).encode()


@pytest.mark.parametrize("source", XML_SOURCES)
def test_external_entity_is_refused_and_the_file_never_read(source: str, secret_file: Path) -> None:
    root = "TransmissionGreffe" if source == "greffe" else "TransmissionNotaire"
    data = _hostile(source, f'<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "file://{secret_file}">]>', "&xxe;")
    error = failure(source, data)
    assert isinstance(error, MalformedPayload)
    assert [str(i.code) for i in error.issues] == ["malformed-payload"]
    shown = " ".join(f"{i.field} {i.message}" for i in error.issues) + repr(error)
    assert "TOP-SECRET" not in shown


@pytest.mark.parametrize("source", XML_SOURCES)
def test_external_dtd_is_refused(source: str, secret_file: Path) -> None:
    error = failure(source, _hostile(source, f'<!DOCTYPE x SYSTEM "file://{secret_file}">', ""))
    assert isinstance(error, MalformedPayload)
    assert "TOP-SECRET" not in repr(error)


@pytest.mark.parametrize("source", XML_SOURCES)
def test_billion_laughs_is_refused(source: str) -> None:
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    ]
    doctype = f"<!DOCTYPE lolz [{''.join(entities)}]>"
    error = failure(source, _hostile(source, doctype, "&lol9;"))
    assert isinstance(error, MalformedPayload)


@pytest.mark.parametrize("source", XML_SOURCES)
def test_internal_dtd_is_refused(source: str) -> None:
    error = failure(source, _hostile(source, "<!DOCTYPE x [<!ELEMENT x ANY>]>", ""))
    assert isinstance(error, MalformedPayload)


@pytest.mark.parametrize("source", ["greffe", "notaire", "avocat"])
def test_a_50_mb_document_is_refused_before_parsing(source: str) -> None:
    if source == "avocat":
        data = AVOCAT.replace('"version": 1,', f'"version": 1, "x": "{"a" * 50_000_000}",', 1).encode()
    else:
        text = GREFFE if source == "greffe" else NOTAIRE
        data = text.replace("</Nature>", "</Nature>" + "<!-- padding -->" * 3_200_000, 1).encode()
    assert len(data) > 50_000_000
    error = failure(source, data)
    assert isinstance(error, PayloadTooLarge)
    assert [str(i.code) for i in error.issues] == ["payload-too-large"]


@pytest.mark.parametrize("source", ["greffe", "notaire", "avocat"])
def test_the_size_limit_is_the_callers(source: str) -> None:
    data = {"greffe": GREFFE, "notaire": NOTAIRE, "avocat": AVOCAT}[source].encode()
    error = failure(source, data, max_bytes=len(data) - 1)
    assert isinstance(error, PayloadTooLarge)
