"""Schema checks of large documents while they stream: the same verdict as
a check of the whole tree, every finding with its line when the document
is small enough to be checked again whole, libxml2's findings otherwise."""

import pytest

from odoo.addons.heeros_link_base.formats.errors import MalformedDocument
from odoo.addons.heeros_link_einvoice.formats import xsd
from tests.einvoice.large_files import UBL_SAMPLE, ubl_file


def test_a_large_valid_invoice_passes():
    data = ubl_file(1_500_000)
    assert len(data) > xsd.STREAM_CHECK_BYTES
    assert xsd.validate(data, "ubl-invoice", "large.xml") is None


def _broken():
    data = ubl_file(1_200_000)
    marker = b"<cbc:InvoicedQuantity"
    first = data.index(marker, len(data) // 3)
    second = data.index(marker, 2 * len(data) // 3)
    broken = (
        data[:first] + b"<cbc:Stray>1</cbc:Stray>" + data[first:second] + b"<cbc:Stray>2</cbc:Stray>" + data[second:]
    )
    return broken


def test_a_large_invalid_invoice_lists_every_finding_with_its_line():
    broken = _broken()
    violation = xsd.validate(broken, "ubl-invoice", "large.xml")
    assert violation is not None and violation.file_name == "large.xml"
    assert "UBL-Invoice-2.1.xsd" in violation.message
    assert len(violation.errors) == 2
    for error, needle in zip(violation.errors, (b"<cbc:Stray>1", b"<cbc:Stray>2"), strict=True):
        line = broken.count(b"\n", 0, broken.index(needle)) + 1
        assert error.startswith("line "), error
        assert abs(int(error.split(",")[0].removeprefix("line ")) - line) <= 3, (error, line)
        assert "Stray" in error


def test_beyond_the_whole_check_the_streamed_findings_are_reported(monkeypatch):
    monkeypatch.setattr(xsd, "WHOLE_CHECK_BYTES", 0)
    violation = xsd.validate(_broken(), "ubl-invoice", "large.xml")
    assert violation is not None and "UBL-Invoice-2.1.xsd" in violation.message
    assert violation.errors and all("Stray" in error for error in violation.errors)


def test_a_small_document_is_checked_whole_as_before():
    assert xsd.validate(UBL_SAMPLE.read_bytes(), "ubl-invoice") is None


def test_malformed_large_document_is_malformed_not_invalid():
    data = ubl_file(1_500_000)
    cut = data[: len(data) - 200]
    assert len(cut) > xsd.STREAM_CHECK_BYTES
    with pytest.raises(MalformedDocument) as caught:
        xsd.validate(cut, "ubl-invoice", "cut.xml")
    assert caught.value.file_name == "cut.xml"
