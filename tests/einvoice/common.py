"""Shared set-up of the e-invoicing ORM tests: one Finnish company on the
Finnish chart of accounts (loaded once per test class), its bank account,
own e-invoice address and Link connection, customers with e-invoice
addresses, and a way to make invoices quickly."""

import shutil
from contextlib import contextmanager
from datetime import date
from unittest.mock import patch

from lxml import etree

from odoo import Command
from odoo.tests.common import TransactionCase, new_test_user
from tests.common import SHARED_DATA, link_folder

OFFICIAL_FINVOICE_XSD = SHARED_DATA / "einvoice" / "finvoice-3.0-xsd" / "Finvoice3.0_2020-12-17.xsd"
UBL_XSD_DIR = SHARED_DATA / "einvoice" / "oasis-ubl-2.1-xsd" / "xsd" / "maindoc"
SELLER_IBAN = "FI4950009420028730"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_schemas = {}


def official_schema(path):
    """The official schema, loaded with plain lxml (not the addon's validator)."""
    if path not in _schemas:
        _schemas[path] = etree.XMLSchema(etree.parse(str(path), _PARSER))
    return _schemas[path]


def tree(data):
    return etree.fromstring(data, _PARSER)


def xp(root, path):
    return root.xpath(f"string({path})")


@contextmanager
def extended_model(env, model_name, *extensions):
    """Put ``extensions`` (plain classes holding methods, written as in an
    addon's ``_inherit`` class, ``super()`` included) on top of the registry
    class of ``model_name`` while the block runs: the same class layering as
    an installed addon, without installing one into the test database."""
    base = env.registry[model_name]
    extended = type(base)(base.__name__, (*extensions, base), {"_register": False, "__module__": base.__module__})
    with patch.dict(env.registry.models, {model_name: extended}):
        yield extended


class EinvoiceCase(TransactionCase):
    """A Finnish seller with the Finnish chart, customers and a connection."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        env = cls.env
        fi = env.ref("base.fi")
        cls.company = env["res.company"].create(
            {
                "name": "Myyjä Oy",
                "country_id": fi.id,
                "currency_id": env.ref("base.EUR").id,
                "street": "Esimerkkikatu 1",
                "zip": "00100",
                "city": "Helsinki",
                "vat": "FI23456780",
                "company_registry": "2345678-0",
                "email": "laskutus@myyja.example",
                "phone": "+358 9 123 4567",
            }
        )
        env.user.company_ids |= cls.company
        cls.env = env = cls.env(context=dict(cls.env.context, allowed_company_ids=[cls.company.id]))
        env["account.chart.template"].try_loading("fi", cls.company, install_demo=False)
        cls.company = env["res.company"].browse(cls.company.id)
        cls.journal = env["account.journal"].search(
            [("company_id", "=", cls.company.id), ("type", "=", "sale")], limit=1
        )
        bank = env["res.bank"].create({"name": "OP", "bic": "OKOYFIHH"})
        cls.bank_account = env["res.partner.bank"].create(
            {
                "acc_number": SELLER_IBAN,
                "partner_id": cls.company.partner_id.id,
                "bank_id": bank.id,
                "allow_out_payment": True,
            }
        )
        Operator = env["heeros.link.einvoice.operator"]
        cls.maventa = Operator.search([("code", "=", "003721291126")])
        cls.nordea = Operator.search([("code", "=", "NDEAFIHH")])
        cls.own_address = env["heeros.link.einvoice.address"].create(
            {
                "partner_id": cls.company.partner_id.id,
                "address": "003723456780",
                "operator_id": cls.maventa.id,
                "delivery": "finvoice",
            }
        )
        cls.tmp = link_folder(env, "heeros-link-einvoice-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.connection = env["heeros.link.connection"].create(
            {
                "name": "Operator folder",
                "protocol": "local",
                "local_root": cls.tmp,
                "direction": "out",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
            }
        )
        cls.salesperson = new_test_user(
            env,
            "myyja",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
            email="myyja@myyja.example",
        )

        def tax(xmlid):
            return env.ref(f"account.{cls.company.id}_{xmlid}")

        cls.tax_25_5 = tax("tax_dom_sales_goods_25_5")
        cls.tax_14 = tax("tax_dom_sales_goods_14")
        cls.tax_10 = tax("tax_dom_sales_goods_10")
        cls.tax_0 = tax("tax_dom_sales_goods_0")
        cls.tax_eu_service_0 = tax("tax_eu_sales_service_0")
        cls.tax_0.write(
            {
                "heeros_link_vat_category": "E",
                "heeros_link_vatex": "VATEX-EU-132-1C",
                "heeros_link_vat_reason": "Terveydenhuoltopalvelu, AVL 34 §",
            }
        )

        Partner = env["res.partner"]
        cls.buyer = Partner.create(
            {
                "name": "Ostaja Oy",
                "is_company": True,
                "country_id": fi.id,
                "street": "Testitie 2",
                "zip": "02100",
                "city": "Espoo",
                "vat": "FI01120389",
                "company_registry": "0112038-9",
                "email": "ostot@ostaja.example",
                "lang": "en_US",
                "invoice_sending_method": "heeros_link",
            }
        )
        cls.buyer_address = env["heeros.link.einvoice.address"].create(
            {
                "partner_id": cls.buyer.id,
                "address": "003701120389",
                "operator_id": cls.nordea.id,
                "delivery": "finvoice",
            }
        )
        cls.peppol_buyer = Partner.create(
            {
                "name": "Peppol Asiakas Oy",
                "is_company": True,
                "country_id": fi.id,
                "street": "Verkkokatu 3",
                "zip": "33100",
                "city": "Tampere",
                "vat": "FI07375462",
                "company_registry": "0737546-2",
                "invoice_sending_method": "heeros_link",
            }
        )
        cls.peppol_address = env["heeros.link.einvoice.address"].create(
            {
                "partner_id": cls.peppol_buyer.id,
                "address": "003707375462",
                "intermediator": "003723327487",
                "delivery": "peppol",
            }
        )
        cls.german = Partner.create(
            {
                "name": "Beispiel GmbH",
                "is_company": True,
                "country_id": env.ref("base.de").id,
                "street": "Musterstraße 5",
                "zip": "10115",
                "city": "Berlin",
                "vat": "DE111111125",
                "invoice_sending_method": "heeros_link",
            }
        )
        cls.german_address = env["heeros.link.einvoice.address"].create(
            {
                "partner_id": cls.german.id,
                "address": "003701120389",
                "intermediator": "003723327487",
                "delivery": "finvoice",
            }
        )
        cls.usd = env.ref("base.USD")
        cls.usd.active = True
        env["res.currency.rate"].create(
            {
                "name": "2026-01-01",
                "rate": 1.08,
                "currency_id": cls.usd.id,
                "company_id": cls.company.id,
            }
        )
        cls.product = env["product.product"].create(
            {
                "name": "Konsultointi",
                "default_code": "K-1",
                "type": "service",
                "uom_id": env.ref("uom.product_uom_hour").id,
                "uom_po_id": env.ref("uom.product_uom_hour").id,
            }
        )

    # ------------------------------------------------------------------
    @classmethod
    def make_invoice(
        cls,
        partner=None,
        lines=None,
        move_type="out_invoice",
        currency=None,
        invoice_date=date(2026, 3, 2),
        post=True,
        **values,
    ):
        """``lines``: (name, quantity, unit price, tax, discount %) tuples."""
        partner = partner or cls.buyer
        lines = lines or [("Konsultointi", 10, 90.0, cls.tax_25_5, 10.0)]
        move = cls.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": partner.id,
                "invoice_date": invoice_date,
                "journal_id": cls.journal.id,
                "currency_id": (currency or cls.company.currency_id).id,
                "partner_bank_id": cls.bank_account.id,
                "invoice_user_id": cls.salesperson.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": name,
                            "product_id": cls.product.id if name == "Konsultointi" else False,
                            "quantity": quantity,
                            "price_unit": price,
                            "tax_ids": [Command.set(tax.ids)],
                            "discount": discount,
                        }
                    )
                    for name, quantity, price, tax, discount in lines
                ],
                **values,
            }
        )
        if post:
            move.action_post()
        return move

    @classmethod
    def four_rate_lines(cls):
        return [
            ("Konsultointi", 10, 90.0, cls.tax_25_5, 10.0),
            ("Käsikirja", 2, 25.0, cls.tax_10, 0.0),
            ("Lounas", 3, 12.0, cls.tax_14, 0.0),
            ("Hoitokäynti", 1, 200.0, cls.tax_0, 0.0),
        ]
