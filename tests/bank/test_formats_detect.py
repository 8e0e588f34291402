"""Bank format detectors on every bank sample and the hand-written files.

The expected kind of each file is decided here from its name and its root
namespace (a regular expression over the first bytes), not by the detectors.
"""

import re

import pytest

from odoo.addons.heeros_link_bank.formats import detect
from odoo.addons.heeros_link_base.formats import xmlsafe
from tests.common import SHARED_DATA, TEST_DATA

DETECTORS = {
    "camt.052": detect.is_camt052,
    "camt.053": detect.is_camt053,
    "camt.054": detect.is_camt054,
    "tito": detect.is_tito,
    "ktl": detect.is_ktl,
}
_NS = re.compile(rb'xmlns="urn:iso:std:iso:20022:tech:xsd:(camt\.05[234])\.001\.\d+"')

FILES = sorted((SHARED_DATA / "bank" / "samples").glob("*/*")) + sorted((TEST_DATA / "bank").glob("*"))


def _expected_kind(path):
    head = path.read_bytes()[:2048]
    match = _NS.search(head)
    if match:
        return match.group(1).decode()
    if "tito" in path.name:
        return "tito"
    if "ktl" in path.name:
        return "ktl"
    return None


def _sniff(data, name="x"):
    return xmlsafe.sniff(data, name)


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
def test_each_file_is_detected_as_exactly_its_kind(path):
    expected = _expected_kind(path)
    sniff = _sniff(path.read_bytes(), path.name)
    found = {kind for kind, detector in DETECTORS.items() if detector(sniff)}
    assert found == ({expected} if expected else set())


def test_every_kind_is_covered_by_the_files():
    kinds = {_expected_kind(p) for p in FILES}
    assert set(DETECTORS) <= kinds
    assert None in kinds  # pain.001/002 files: no bank statement detector fires


def test_tito_variants():
    data = (TEST_DATA / "bank" / "tito_latin1.txt").read_bytes()
    assert detect.is_tito(_sniff(data.replace(b"\r\n", b"")))  # no line breaks
    assert detect.is_tito(_sniff(b"\xef\xbb\xbf" + data))
    assert not detect.is_tito(_sniff(b"T00005100" + data[9:]))  # implausible length
    assert not detect.is_tito(_sniff(b"T0032X100" + data[9:]))
    assert not detect.is_tito(_sniff(b"T10188000001" + data[12:]))
    assert not detect.is_ktl(_sniff(data))


def test_ktl_variants():
    data = (TEST_DATA / "bank" / "ktl_latin1.txt").read_bytes()
    trimmed = b"\n".join(line.rstrip() for line in data.split(b"\r\n"))
    assert detect.is_ktl(_sniff(trimmed))
    assert detect.is_ktl(_sniff(data.replace(b"\r\n", b"")))
    assert not detect.is_ktl(_sniff(b"0" + b"x" * 89 + b"\r\n" + data))
    assert not detect.is_ktl(_sniff(b"01234567890,12\n3123456,4\n"))  # short CSV-like lines
    assert not detect.is_tito(_sniff(data))


def test_other_payloads_are_not_bank_statements():
    for payload in (
        b"Hello, world\n",
        b"%PDF-1.4\n",
        b"<a/>",
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.060.001.02"/>',
        b'<Other xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"/>',
    ):
        sniff = _sniff(payload)
        assert not any(detector(sniff) for detector in DETECTORS.values()), payload
