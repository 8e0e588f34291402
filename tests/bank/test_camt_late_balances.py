"""camt read one way whatever the size: a statement whose balances come
after its entries (non-conforming, but banks send it) gives the same
statement from a small file and from a large one (above 8 MB), read by the
format's one reader, parsed whole, and imported."""

import dataclasses
import re

from odoo.addons.heeros_link_bank.formats import camt, registry

from .common import IBAN_A, IBAN_A2, BankCase, entry, statement
from .common import camt as camt_file

LARGE = 8 * 1024 * 1024
_BALANCES = re.compile(rb"(<Bal>.*?</Bal>)+")


def _booked(msg):
    return [
        entry(120, f"{msg}-1", name="Asiakas Oy", text="Lasku 1"),
        entry(-45.5, f"{msg}-2", name="Toimittaja Oy", text="Lasku 2"),
        entry(80, f"{msg}-3", name="Asiakas Oy", text="Lasku 3"),
    ]


def late_file(iban, msg, size=0):
    """A camt.053 with an opening, a closing and an available balance all
    after the entries: three booked entries, then pending ones (which the
    import leaves out) until the file is ``size`` bytes."""
    entries = _booked(msg)
    if size:

        def pending(n):
            return entry(999, f"{msg}-P{n:07d}", status="PDNG", name="Odottava", text="Ei kirjattu")

        each = len(camt_file("camt.053", [statement(iban, [pending(0)], opening=0)])) - len(
            camt_file("camt.053", [statement(iban, [], opening=0)])
        )
        entries += [pending(n) for n in range(size // each + 1)]
    data = camt_file("camt.053", [statement(iban, entries, opening=1000, closing=1154.5, available=1100)], msg_id=msg)
    balances = _BALANCES.search(data).group(0)
    data = data.replace(balances, b"", 1).replace(b"</Stmt>", balances + b"</Stmt>", 1)
    assert data.index(b"<Bal>") > data.rindex(b"</Ntry>")
    assert len(data) > size
    return data


def _read(data):
    """``[(header dict, [booked entry dicts])]`` by the format's reader."""
    runs = []
    for header, item in registry.get("camt.053").read(data, "late.xml"):
        if not runs or runs[-1][0] is not header:
            runs.append((header, []))
        if item is not None and item.status == "BOOK":
            runs[-1][1].append(dataclasses.asdict(item))
    result = []
    for header, items in runs:
        values = dataclasses.asdict(header)
        values.pop("entries")
        result.append((values, items))
    return result


def _comparable(values):
    """A statement's header without what names the file it came from."""
    return {k: v for k, v in values.items() if k not in ("statement_id", "message_id", "account_iban")}


def test_small_and_large_files_read_the_same_statement():
    small, large = late_file(IBAN_A, "LATE"), late_file(IBAN_A, "LATE", LARGE)
    read_small, read_large = _read(small), _read(large)
    ((header, items),) = read_small
    assert [b["code"] for b in header["balances"]] == ["OPBD", "CLBD", "CLAV"], "the late balances are read"
    assert len(items) == 3
    assert read_large == read_small
    # parse, the whole file at once, says the same
    for data, streamed in ((small, read_small), (large, read_large)):
        (parsed,) = camt.parse(data, "late.xml").statements
        values = dataclasses.asdict(parsed)
        booked = [e for e in values.pop("entries") if e["status"] == "BOOK"]
        assert [(values, booked)] == streamed


class TestLateBalancesImport(BankCase):
    def _import(self, data, name):
        message = self.intake((name, data))
        self.assertEqual(message.state, "processed", message.error)
        st = message._linked("account.bank.statement")
        self.assertEqual(len(st), 1)
        balance = message._linked("heeros.link.bank.balance")
        return message, st, balance

    def test_small_and_large_files_import_the_same_statement(self):
        _message, small, small_balance = self._import(late_file(IBAN_A, "LATES"), "small.xml")
        message, large, large_balance = self._import(late_file(IBAN_A2, "LATEL", LARGE), "large.xml")
        self.assertGreater(len(message._payload()), LARGE)
        for st in (small, large):
            self.assertEqual((st.balance_start, st.balance_end_real, st.balance_end), (1000, 1154.5, 1154.5))
            self.assertFalse(st.heeros_link_balance_warning)
        self.assertEqual(small.line_ids.mapped("amount"), large.line_ids.mapped("amount"))
        self.assertEqual(small.line_ids.mapped("payment_ref"), large.line_ids.mapped("payment_ref"))
        self.assertEqual(small.line_ids.mapped("date"), large.line_ids.mapped("date"))
        for balance in (small_balance, large_balance):
            self.assertEqual((balance.booked_amount, balance.available_amount), (1154.5, 1100))
        self.assertFalse(message.bank_warning)
