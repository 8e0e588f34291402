"""Business IDs, VAT numbers, IBANs and payment references: python-stdnum's
checks, its errors turned into the suite's typed error with a sentence a
person can act on, and the SQL form of a reference that matches the Python
one."""

import pytest
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength

from odoo.addons.heeros_link_base.formats import identifiers, reference
from odoo.addons.heeros_link_base.formats.errors import (
    InvalidIdentifier,
    LinkFormatError,
    RecordError,
)
from odoo.tests.common import TransactionCase
from odoo.tools import SQL

# --------------------------------------------------------------------------
# business ID (Y-tunnus) and VAT number
# --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0112038-9", "01120389", "FI01120389", "fi 0112038 9", "0112038-9\n", "\t0112 0389"])
def test_business_id_forms_are_one_business_id(value):
    assert identifiers.validate_business_id(value) == "0112038-9"
    assert identifiers.normalise_business_id(value) == "0112038-9"
    assert identifiers.check_business_id(value) is None


def test_normalise_business_id_does_not_guess():
    assert identifiers.normalise_business_id("0112038") is None
    assert identifiers.normalise_business_id("DE123456789") is None
    assert identifiers.normalise_business_id(None) is None
    # shape only: the check digit is validate's business
    assert identifiers.normalise_business_id("0112038-8") == "0112038-8"


def test_wrong_check_digit_is_a_typed_error_naming_the_right_one():
    with pytest.raises(InvalidIdentifier) as caught:
        identifiers.validate_business_id("0112038-8")
    error = caught.value
    assert isinstance(error, RecordError) and isinstance(error, LinkFormatError)
    assert isinstance(error.__cause__, InvalidChecksum)
    assert (error.identifier, error.reason) == ("business_id", "checksum")
    assert str(error) == "business ID 0112038-8 has a wrong check digit (expected 0112038-9)"


def test_business_id_without_any_valid_check_digit():
    # 1234560: weighted sum leaves remainder 1, so no check digit exists
    assert identifiers.business_id_check_digit("1234560") == "4"
    base = next(f"{n:07d}" for n in range(10_000) if identifiers.business_id_check_digit(f"{n:07d}") is None)
    with pytest.raises(InvalidIdentifier, match="has no valid check digit") as caught:
        identifiers.validate_business_id(f"{base}-0")
    assert caught.value.reason == "checksum"


@pytest.mark.parametrize(
    "value, cause, reason",
    [
        ("ABC-123", InvalidFormat, "format"),
        ("0112038-99", InvalidLength, "length"),
    ],
)
def test_business_id_bad_shape(value, cause, reason):
    with pytest.raises(InvalidIdentifier) as caught:
        identifiers.validate_business_id(value)
    assert isinstance(caught.value.__cause__, cause)
    assert caught.value.reason == reason
    assert str(caught.value) == (
        f"{value!r} is not a Finnish business ID (expected seven digits, a hyphen and a check digit)"
    )


def test_empty_business_id():
    with pytest.raises(InvalidIdentifier, match="the business ID is empty") as caught:
        identifiers.validate_business_id("  ")
    assert caught.value.reason == "empty"


def test_personal_identity_code_is_refused_without_repeating_it():
    # a valid henkilötunnus (the example of the Population Register Centre)
    with pytest.raises(InvalidIdentifier) as caught:
        identifiers.validate_business_id("131052-308T")
    text = str(caught.value)
    assert "personal identity code" in text and "not a business ID" in text
    assert "131052" not in text


def test_vat_number():
    assert identifiers.validate_vat("fi 0112 0389") == "FI01120389"
    assert identifiers.vat_from_business_id("0112038-9") == "FI01120389"
    assert identifiers.business_id_from_vat("FI01120389") == "0112038-9"
    assert identifiers.business_id_from_vat("DE111111125") == ""
    with pytest.raises(InvalidIdentifier, match="wrong check digit") as caught:
        identifiers.validate_vat("FI01120388")
    assert isinstance(caught.value.__cause__, InvalidChecksum)
    with pytest.raises(InvalidIdentifier, match="not a Finnish VAT number") as caught:
        identifiers.validate_vat("DE111111125")
    assert caught.value.identifier == "vat"


# --------------------------------------------------------------------------
# IBAN
# --------------------------------------------------------------------------


def test_iban_valid_in_any_spacing():
    assert identifiers.validate_iban("fi49 5000 9420 0287 30") == "FI4950009420028730"


@pytest.mark.parametrize(
    "value, reason, words",
    [
        ("FI4950009420028731", "checksum", "its check digits do not match"),
        ("FI495000942002873", "length", "it has 17 characters where an IBAN of FI has 18"),
        ("XX4950009420028730", "component", "its country code is not one that uses IBANs"),
    ],
)
def test_iban_errors_say_which_part_is_wrong(value, reason, words):
    with pytest.raises(InvalidIdentifier) as caught:
        identifiers.validate_iban(value)
    error = caught.value
    assert (error.identifier, error.reason) == ("iban", reason)
    assert error.message == f"{value} is not a valid IBAN: {words}"
    assert error.__cause__ is not None


# --------------------------------------------------------------------------
# payment references
# --------------------------------------------------------------------------


def test_rf_reference_built_with_stdnum_check_digits():
    assert reference.rf_make("2348236") == "RF332348236"
    assert reference.validate("rf33 2348 236") == "RF332348236"
    assert reference.to_national("RF332348236") == "2348236"


@pytest.mark.parametrize(
    "value, reason, words",
    [
        ("RF342348236", "checksum", "its check digits do not match"),
        ("RF33", "length", "it has 4 characters"),
    ],
)
def test_rf_reference_errors(value, reason, words):
    with pytest.raises(InvalidIdentifier) as caught:
        reference.validate(value)
    error = caught.value
    assert isinstance(error, RecordError)
    assert (error.identifier, error.reason) == ("reference", reason)
    assert error.message == f"invalid RF reference {value!r}: {words}"
    assert error.__cause__ is not None


@pytest.mark.parametrize(
    "value, reason, words",
    [
        ("12329", "checksum", "its check digit is 9, not 8"),
        ("12A8", "format", "a Finnish reference has only digits"),
        ("128", "length", "it has 3 digits"),
    ],
)
def test_finnish_reference_errors(value, reason, words):
    assert reference.validate("12328") == "12328"
    with pytest.raises(InvalidIdentifier) as caught:
        reference.validate(value)
    assert caught.value.reason == reason
    assert caught.value.message == f"invalid Finnish reference {value!r}: {words}"


def test_normalise_keeps_free_text():
    assert reference.normalise(" 0001 2328 ") == "12328"
    assert reference.normalise("invoice 12") == "invoice 12"


class TestReferenceInSql(TransactionCase):
    """The database compares stored payment references with the Python keys:
    both sides must give the same compact text."""

    SAMPLES = (
        "12328",
        "0001 2328",
        " 00012328\t",
        "1232\n8",
        "rf33 2348 236",
        "RF33\u00a02348236",
        "Rf332348236",
        "000",
        "",
        "invoice 12",
        "00rf12",
        "ab-c.d",
        # every character Python counts as whitespace
        "1" + "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + "2328",
    )

    def test_compact_sql_matches_compact(self):
        code = "SELECT " + reference.compact_sql("t.v") + " FROM (SELECT %s::text AS v) t"
        for sample in self.SAMPLES:
            self.env.cr.execute(SQL(code, sample))
            (in_sql,) = self.env.cr.fetchone()
            self.assertEqual(in_sql, reference.compact(sample), f"reference {sample!r}")
