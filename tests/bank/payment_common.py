"""Shared set-up of the payment batch tests: a Finnish company with a bank
journal and an outbound Link connection, suppliers in and outside SEPA with
their bank accounts, and a builder of posted vendor bills."""

import shutil
from datetime import date

from odoo import Command
from odoo.addons.heeros_link_base.formats import reference
from odoo.tests.common import HttpCase, TransactionCase, new_test_user
from tests.common import link_folder

IBAN_COMPANY = "FI4819503000000010"
IBAN_FI = "FI2112345600000785"
BIC_FI = "NDEAFIHH"
IBAN_DE = "DE89370400440532013000"
IBAN_GB = "GB29NWBK60161331926819"
BIC_GB = "NWBKGB2L"
IBAN_CH = "CH9300762011623852957"
US_ACCOUNT = "000123456789"
BIC_US = "CHASUS33"


class PaymentSetup:
    """The set-up, for transaction and HTTP test cases alike."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        fi = cls.env.ref("base.fi")
        cls.eur = cls.env.ref("base.EUR")
        cls.usd = cls.env.ref("base.USD")
        cls.usd.active = True
        cls.company = cls.env["res.company"].create(
            {
                "name": "Maksutesti Oy",
                "country_id": fi.id,
                "currency_id": cls.eur.id,
                "street": "Mannerheimintie 1",
                "zip": "00100",
                "city": "Helsinki",
                "company_registry": "1234567-1",
            }
        )
        cls.env.user.company_ids |= cls.company
        cls.env["account.chart.template"].try_loading("fi", cls.company, install_demo=False)
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=[cls.company.id]))
        Journal = cls.env["account.journal"]
        cls.journal = Journal.search([("company_id", "=", cls.company.id), ("type", "=", "bank")], limit=1)
        cls.journal.bank_acc_number = IBAN_COMPANY
        cls.journal.bank_account_id.bank_id = cls.env["res.bank"].create({"name": "Nordea", "bic": BIC_FI})
        cls.purchase = Journal.search([("company_id", "=", cls.company.id), ("type", "=", "purchase")], limit=1)
        cls.tmp = link_folder(cls.env, "heeros-link-pay-test-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.connection = cls.env["heeros.link.connection"].create(
            {
                "name": "Bank agreement",
                "protocol": "local",
                "local_root": cls.tmp,
                "direction": "both",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
            }
        )
        Bank = cls.env["res.bank"]
        cls.bank_fi = Bank.create({"name": "Pankki", "bic": BIC_FI})
        cls.bank_gb = Bank.create({"name": "NatWest", "bic": BIC_GB})
        cls.bank_us = Bank.create({"name": "Chase", "bic": BIC_US})
        cls.supplier = cls.partner(
            "Toimittaja Oy", "fi", IBAN_FI, cls.bank_fi, street="Kauppakatu 5", zip_code="33100", city="Tampere"
        )
        cls.supplier_de = cls.partner(
            "Lieferant GmbH", "de", IBAN_DE, None, street="Hauptstr. 3", zip_code="10115", city="Berlin"
        )
        cls.supplier_gb = cls.partner(
            "Supplier Ltd", "uk", IBAN_GB, cls.bank_gb, street="1 High Street", zip_code="EC1A 1BB", city="London"
        )
        cls.supplier_us = cls.partner(
            "Vendor Inc", "us", US_ACCOUNT, cls.bank_us, street="5th Avenue 10", zip_code="10001", city="New York"
        )
        cls.user = new_test_user(
            cls.env,
            "pay-user",
            password="pay-user-pw",
            groups="heeros_link_base.group_link_user,account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.user2 = new_test_user(
            cls.env,
            "pay-user2",
            password="pay-user2-pw",
            groups="heeros_link_base.group_link_user,account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.manager = new_test_user(
            cls.env,
            "pay-manager",
            password="pay-manager-pw",
            groups="heeros_link_base.group_link_manager,account.group_account_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.payroll = new_test_user(
            cls.env,
            "pay-salary",
            password="pay-salary-pw",
            groups="heeros_link_bank.group_link_salary,account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.Batch = cls.env["heeros.link.payment.batch"]
        cls.Wizard = cls.env["heeros.link.payment.batch.wizard"]

    @classmethod
    def partner(cls, name, country, account, bank, street=None, zip_code=None, city=None):
        return cls.env["res.partner"].create(
            {
                "name": name,
                "is_company": True,
                "country_id": cls.env.ref(f"base.{country}").id,
                "street": street,
                "zip": zip_code,
                "city": city,
                "bank_ids": [
                    Command.create(
                        {"acc_number": account, "bank_id": bank.id if bank else False, "allow_out_payment": True}
                    )
                ],
            }
        )

    def bill(self, partner, amount, ref=None, due=date(2026, 12, 1), currency=None, post=True):
        move = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "company_id": self.company.id,
                "partner_id": partner.id,
                "invoice_date": date(2026, 11, 1),
                "invoice_date_due": due,
                "currency_id": (currency or self.eur).id,
                "payment_reference": ref,
                "ref": f"INV-{partner.name[:4]}-{amount}",
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Palvelu", "quantity": 1, "price_unit": amount, "tax_ids": [Command.clear()]}
                    )
                ],
            }
        )
        if post:
            move.action_post()
        return move

    def fi_ref(self, base):
        return reference.fi_make(str(base))

    def wizard(self, **vals):
        vals.setdefault("journal_id", self.journal.id)
        vals.setdefault("company_id", self.company.id)
        vals.setdefault("due_date_to", date(2026, 12, 31))
        vals.setdefault("execution_date", date(2026, 12, 7))
        return self.env["heeros.link.payment.batch.wizard"].create(vals)

    def batch_of(self, bills, kind="supplier", **vals):
        wizard = self.wizard(move_ids=[Command.set(bills.ids)], kind=kind, **vals)
        action = wizard.action_create_batch()
        return self.env["heeros.link.payment.batch"].browse(action["res_id"])


class PaymentCase(PaymentSetup, TransactionCase):
    pass


class PaymentHttpCase(PaymentSetup, HttpCase):
    pass
