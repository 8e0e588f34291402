"""Bank formats in a database: the descriptions of
``heeros.link.bank.import._link_bank_formats()`` drive detection, the
import, the balances and forwarding. An addon that extends the hook adds a
format or changes one; here the extension is put on the registry's class for
the length of a test, as an ``_inherit`` of an installed addon would be."""

import dataclasses
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from unittest.mock import patch

from odoo import Command
from odoo.addons.heeros_link_bank.formats import registry
from odoo.addons.heeros_link_bank.formats.statement import Balance, Entry, Statement, TxDetail
from odoo.addons.heeros_link_base.formats.errors import UnrecognisedDocument

from .common import IBAN_A, BankCase, camt, entry, fi_ref, ktl, statement

SALDO_IBAN = IBAN_A


def _is_saldo(sniff):
    return not sniff.is_xml and sniff.head.startswith(b"SALDO;")


def _read_saldo(data, file_name=None):
    """``SALDO;<IBAN>;<day>;<booked>;<available>`` then ``MOVE;<archive>;<amount>``
    lines: one statement, its entries."""
    lines = data.decode().split()
    _tag, iban, day, booked, available = lines[0].split(";")
    day = date.fromisoformat(day)
    header = Statement(
        kind="saldo",
        account_iban=iban,
        currency="EUR",
        statement_id=f"SALDO-{day}",
        to_date=day,
        balances=[
            Balance(code="BOOKED", amount=Decimal(booked), date=day),
            Balance(code="AVAIL", amount=Decimal(available), date=day),
        ],
    )
    moves = [line.split(";") for line in lines[1:]]
    if not moves:
        yield header, None
    for _tag, archive, amount in moves:
        amount = Decimal(amount)
        yield (
            header,
            Entry(
                amount=amount,
                currency="EUR",
                status="BOOK",
                booking_date=day,
                archive_id=archive,
                details=[TxDetail(amount=amount, currency="EUR", remittance_info=f"Saldo {archive}")],
            ),
        )


SALDO = registry.BankFormat(
    code="saldo",
    label="Balances (SALDO)",
    role="report",
    detect=_is_saldo,
    read=_read_saldo,
    booked_codes=("BOOKED",),
    available_codes=("AVAIL",),
    forward=True,
    forward_label="Balances (SALDO)",
    sequence=60,
)


class TestFormatRegistry(BankCase):
    @contextmanager
    def formats(self, change):
        """Extend ``_link_bank_formats`` with ``change(formats)``, a function
        that changes the dict the standard method returns."""
        Import = type(self.env["heeros.link.bank.import"])
        standard = Import._link_bank_formats

        def _link_bank_formats(model):
            found = standard(model)
            change(found)
            return found

        with patch.object(Import, "_link_bank_formats", _link_bank_formats):
            yield

    def test_document_types_come_from_the_formats(self):
        types = self.Message._link_document_types()
        formats = self.env["heeros.link.bank.import"]._link_bank_formats()
        self.assertEqual(set(formats), {"camt.053", "camt.054", "camt.052", "tito", "ktl"})
        for code, described in formats.items():
            self.assertEqual(types[code].label, described.label)
            self.assertIs(types[code].detect, described.detect)
            self.assertEqual(types[code].handler, ("heeros.link.bank.import", "_link_handle_bank_file"))
        forward_types = self.env["heeros.link.bank.forward.type"].search([])
        self.assertEqual(
            dict(zip(forward_types.mapped("code"), forward_types.mapped("name"))),
            {code: f.forward_label for code, f in formats.items()},
        )
        self.assertEqual(self.env.ref("heeros_link_bank.forward_type_ktl").code, "ktl")

    def test_an_added_format_is_detected_imported_and_forwarded(self):
        data = b"SALDO;%s;2024-03-04;1500.25;1400.00\nMOVE;S1;10.00\n" % SALDO_IBAN.encode()
        forward = self.env["heeros.link.connection"].create(
            {
                "name": "Treasury",
                "protocol": "local",
                "local_root": self.tmp,
                "direction": "out",
                "company_id": self.company_a.id,
                "company_ids": [Command.set(self.company_a.ids)],
                "forward_bank_files": True,
            }
        )
        before = self.intake(("before.txt", data))
        self.assertEqual((before.state, before.document_type), ("error", "unknown"), "unknown without the addon")
        with self.formats(lambda found: found.update(saldo=SALDO)):
            self.assertIn(("saldo", "Balances (SALDO)"), self.Message._selection_document_type())
            self.env["heeros.link.bank.forward.type"]._link_sync()
            saldo_type = self.env["heeros.link.bank.forward.type"].search([("code", "=", "saldo")])
            self.assertEqual(saldo_type.name, "Balances (SALDO)")
            forward.forward_type_ids = saldo_type
            message = self.intake(("saldo.txt", data.replace(b"S1", b"S2")))
            self.assertEqual(message.state, "processed", message.error)
            self.assertEqual(message.document_type, "saldo")
            balance = message._linked("heeros.link.bank.balance")
            self.assertEqual(balance.journal_id, self.journal_a)
            self.assertEqual((balance.booked_amount, balance.available_amount), (1500.25, 1400.0))
            self.assertEqual(balance.source, "saldo")
            self.assertFalse(message._linked("account.bank.statement"), "a report makes no statement lines")
            self.assertEqual(message.child_ids.connection_id, forward)
            self.assertEqual(message.child_ids.document_type, "saldo")

    def test_a_changed_format_changes_the_import(self):
        """An addon that counts transaction code 719 as a lump sum of
        reference payments too: such an entry becomes a lump-sum line a
        reference payment file replaces."""

        def file(msg, code):
            return camt(
                "camt.053",
                [statement(IBAN_A, [entry(60, f"{msg}-1", code=code, name="Pankki", text="Viitteet")], opening=0)],
                msg_id=msg,
            )

        message = self.intake(("plain.xml", file("PLAIN", "719VIITESIIRROT")))
        self.assertEqual(message.state, "processed", message.error)
        self.assertFalse(self.lines(self.journal_a).heeros_link_lump_sum)

        def change(found):
            for code in ("camt.053", "ktl"):
                found[code] = dataclasses.replace(found[code], lump_sum_codes=("705", "719"))

        with self.formats(change):
            message = self.intake(("changed.xml", file("CHANGED", "719VIITESIIRROT")))
            self.assertEqual(message.state, "processed", message.error)
            lump = self.lines(self.journal_a).filtered("heeros_link_lump_sum")
            self.assertEqual(len(lump), 1)
            self.assertEqual(lump.heeros_link_fi_code, "719")
            statement_record = lump.statement_id
            # the day's reference payments (KTL) take the lump sum's place
            ref = self.intake(
                (
                    "r.ktl",
                    ktl(
                        "19503000000010",
                        [
                            ("KTLCHG0000000001", fi_ref(9001), "A", 25),
                            ("KTLCHG0000000002", fi_ref(9002), "B", 35),
                        ],
                    ),
                )
            )
            self.assertEqual(ref.state, "processed", ref.error)
        self.assertFalse(lump.exists(), "the lump sum was replaced")
        payments = statement_record.line_ids.filtered(lambda line: line.heeros_link_batch_key)
        self.assertEqual(sorted(payments.mapped("amount")), [25, 35])
        self.assertIn("replaced by its 2 payments", ref.message_ids[:1].body)

    def test_a_format_the_database_does_not_import_is_refused_with_a_reason(self):
        data = b"SALDO;%s;2024-03-04;1.00;1.00\n" % SALDO_IBAN.encode()
        with self.formats(lambda found: found.update(saldo=SALDO)):
            message = self.intake(("saldo.txt", data))
        self.assertEqual(message.document_type, "saldo")
        self.assertEqual(message.state, "processed", message.error)
        # the addon is gone: its files' handler says what is missing
        with self.assertRaises(UnrecognisedDocument) as caught:
            self.env["heeros.link.bank.import"]._link_handle_bank_file(message)
        self.assertIn("does not import bank files of type saldo", caught.exception.message)
        self.assertIn("install the addon", caught.exception.message)
