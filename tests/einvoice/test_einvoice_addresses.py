"""E-invoice addresses: identifier checks, validation messages, Peppol
endpoints, the default address, and the business ID of Finnish partners."""

import pytest

from odoo.addons.heeros_link_einvoice import identifiers
from odoo.exceptions import ValidationError
from odoo.tests.common import TransactionCase

# --------------------------------------------------------------------------
# pure identifier checks (no database)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0112038-9", "2345678-0", "FI01120389", "01120389"])
def test_business_id_valid(value):
    assert identifiers.check_business_id(value) is None


def test_business_id_wrong_check_digit_names_the_right_one():
    problem = identifiers.check_business_id("0112038-8")
    assert "wrong check digit" in problem and "0112038-9" in problem


def test_business_id_bad_shape():
    assert "not a Finnish business ID" in identifiers.check_business_id("ABC-123")


@pytest.mark.parametrize("address", ["003701120389", "00370112038900100", "003701120389A1"])
def test_ovt_valid(address):
    assert identifiers.check_ovt(address) is None
    assert identifiers.ovt_business_id(address) == "0112038-9"
    assert identifiers.address_kind(address) == "ovt"


@pytest.mark.parametrize(
    "address, words",
    [
        ("003801120389", "expected 0037"),
        ("0037011203", "expected 0037"),
        ("003701120389123456", "at most five"),
        ("003701120388", "wrong check digit"),
    ],
)
def test_ovt_invalid(address, words):
    problem = identifiers.check_ovt(address)
    assert problem and words in problem
    if address.startswith("0037"):
        assert identifiers.check_einvoice_address(address) == problem


def test_other_operator_address_is_kept():
    assert identifiers.address_kind("TE003702015513") == "other"
    assert identifiers.check_einvoice_address("TE003702015513") is None
    assert "4 to 35" in identifiers.check_einvoice_address("x!")


def test_iban_address():
    assert identifiers.address_kind("FI49 5000 9420 0287 30") == "iban"
    assert identifiers.check_einvoice_address("FI4950009420028730") is None
    assert "not a valid IBAN" in identifiers.check_einvoice_address("FI4950009420028731")


def test_default_peppol_endpoint():
    assert identifiers.default_peppol_endpoint("003701120389") == ("0216", "003701120389")
    assert identifiers.default_peppol_endpoint("FI4950009420028730", "FI01120389") == ("0213", "FI01120389")
    assert identifiers.default_peppol_endpoint("", "DE111111125") == ("", "")


# --------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------


class TestEinvoiceAddress(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Address = cls.env["heeros.link.einvoice.address"]
        cls.nordea = cls.env.ref("heeros_link_einvoice.bank_nordea")
        cls.apix = cls.env.ref("heeros_link_einvoice.operator_apix")
        cls.partner = cls.env["res.partner"].create(
            {
                "name": "Ostaja Oy",
                "is_company": True,
                "country_id": cls.env.ref("base.fi").id,
                "vat": "FI01120389",
                "company_registry": "0112038-9",
            }
        )

    def test_operator_list(self):
        codes = dict(self.env["heeros.link.einvoice.operator"].search([]).mapped(lambda o: (o.code, o.kind)))
        self.assertEqual(codes["003723327487"], "operator")  # Apix
        self.assertEqual(codes["003721291126"], "operator")  # Maventa
        self.assertEqual(codes["OKOYFIHH"], "bank")  # OP
        self.assertEqual(self.apix.display_name, "Apix Messaging Oy (003723327487)")

    def test_ovt_address_gets_operator_and_peppol_endpoint(self):
        address = self.Address.create(
            {"partner_id": self.partner.id, "address": "0037 0112 0389", "operator_id": self.apix.id}
        )
        self.assertEqual(address.address, "003701120389")
        self.assertEqual(address.address_kind, "ovt")
        self.assertEqual(address.intermediator, "003723327487")
        self.assertEqual((address.peppol_eas, address.peppol_endpoint), ("0216", "003701120389"))
        self.assertTrue(address.is_default)
        self.assertEqual(self.partner.heeros_link_einvoice_address_id, address)

    def test_iban_address_uses_vat_endpoint(self):
        address = self.Address.create(
            {"partner_id": self.partner.id, "address": "FI4950009420028730", "operator_id": self.nordea.id}
        )
        self.assertEqual(address.address_kind, "iban")
        self.assertEqual((address.peppol_eas, address.peppol_endpoint), ("0213", "FI01120389"))

    def test_invalid_ovt_is_refused_with_the_reason(self):
        with self.assertRaises(ValidationError) as caught:
            self.Address.create({"partner_id": self.partner.id, "address": "003701120388", "operator_id": self.apix.id})
        self.assertIn("003701120388", str(caught.exception))
        self.assertIn("wrong check digit", str(caught.exception))
        self.assertIn("0112038-9", str(caught.exception))

    def test_invalid_iban_is_refused(self):
        with self.assertRaises(ValidationError) as caught:
            self.Address.create(
                {"partner_id": self.partner.id, "address": "FI4950009420028731", "operator_id": self.nordea.id}
            )
        self.assertIn("not a valid IBAN", str(caught.exception))

    def test_finvoice_needs_an_operator(self):
        with self.assertRaises(ValidationError) as caught:
            self.Address.create({"partner_id": self.partner.id, "address": "003701120389"})
        self.assertIn("operator or bank", str(caught.exception))

    def test_peppol_needs_endpoint_and_checks_it(self):
        with self.assertRaises(ValidationError) as caught:
            self.Address.create(
                {
                    "partner_id": self.partner.id,
                    "delivery": "peppol",
                    "peppol_eas": "0213",
                    "peppol_endpoint": "FI01120388",
                }
            )
        self.assertIn("0213", str(caught.exception))
        partner = self.env["res.partner"].create({"name": "Ilman Y-tunnusta"})
        with self.assertRaises(ValidationError) as caught:
            self.Address.create({"partner_id": partner.id, "delivery": "peppol"})
        self.assertIn("Peppol scheme and endpoint", str(caught.exception))

    def test_one_default_per_partner(self):
        first = self.Address.create(
            {"partner_id": self.partner.id, "address": "003701120389", "operator_id": self.apix.id}
        )
        second = self.Address.create(
            {
                "partner_id": self.partner.id,
                "address": "00370112038900100",
                "operator_id": self.apix.id,
                "label": "Ostot",
                "is_default": True,
            }
        )
        self.assertFalse(first.is_default)
        self.assertTrue(second.is_default)
        self.assertEqual(self.partner.heeros_link_einvoice_address_id, second)
        self.assertEqual(second.display_name, "Ostot: 00370112038900100 / 003723327487")

    def test_contact_uses_company_address(self):
        address = self.Address.create(
            {"partner_id": self.partner.id, "address": "003701120389", "operator_id": self.apix.id}
        )
        contact = self.env["res.partner"].create({"name": "Olli Ostaja", "parent_id": self.partner.id})
        self.assertEqual(contact._heeros_link_default_address(), address)

    def test_business_id_of_finnish_partner_is_checked(self):
        with self.assertRaises(ValidationError) as caught:
            self.env["res.partner"].create(
                {
                    "name": "Väärä Oy",
                    "is_company": True,
                    "country_id": self.env.ref("base.fi").id,
                    "company_registry": "0112038-8",
                }
            )
        self.assertIn("wrong check digit", str(caught.exception))
        # other countries keep their own formats
        self.env["res.partner"].create(
            {"name": "Beispiel GmbH", "country_id": self.env.ref("base.de").id, "company_registry": "HRB 12345"}
        )
