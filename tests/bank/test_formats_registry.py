"""The bank format registry, pure: one description per format, detection
and reading through it on every sample, registration by an addon, and the
checks a description must pass.

The expected format of each sample file is decided here from its name and
root namespace, not by the registry."""

import dataclasses
import re
from datetime import date, datetime
from decimal import Decimal

import pytest

from odoo.addons.heeros_link_bank.formats import camt, ktl, registry, tito
from odoo.addons.heeros_link_bank.formats.statement import Balance, Entry, Statement
from odoo.addons.heeros_link_base.formats import xmlsafe
from odoo.addons.heeros_link_base.formats.errors import LinkFormatError
from tests.bank.test_formats_ktl_by_account import by_day
from tests.common import SHARED_DATA, TEST_DATA

FILES = sorted((SHARED_DATA / "bank" / "samples").glob("*/*")) + sorted((TEST_DATA / "bank").glob("*"))
_NS = re.compile(rb'xmlns="urn:iso:std:iso:20022:tech:xsd:(camt\.05[234])\.001\.\d+"')


def _expected(path):
    match = _NS.search(path.read_bytes()[:2048])
    if match:
        return match.group(1).decode()
    for code in ("tito", "ktl"):
        if code in path.name:
            return code
    return None


@pytest.fixture
def clean_registry():
    """The registry as it was, whatever a test registers."""
    saved = dict(registry._REGISTRY)
    yield
    registry._REGISTRY.clear()
    registry._REGISTRY.update(saved)


def test_the_built_in_formats():
    found = registry.formats()
    assert list(found) == ["camt.053", "tito", "camt.054", "ktl", "camt.052"]
    assert {code: f.role for code, f in found.items()} == {
        "camt.053": "statement",
        "tito": "statement",
        "camt.054": "itemisation",
        "ktl": "itemisation",
        "camt.052": "report",
    }
    assert all(f.imported and f.forward and f.detect and f.read for f in found.values())
    assert [f.code for f in registry.by_role("statement")] == ["camt.053", "tito"]
    assert registry.by_role("payments") == [] and registry.by_role("payment_feedback") == []
    assert found["ktl"].itemise_by == "day" and found["camt.054"].itemise_by == "archive"
    assert all(f.lump_sum_codes == ("705",) for code, f in found.items() if code != "camt.052")
    assert found["camt.052"].lump_sum_codes == ()
    assert found["camt.052"].booked_codes == ("ITBD", "CLBD")
    assert found["tito"].available_codes == ("CLAV",)


def test_descriptions_cannot_be_changed_in_place():
    with pytest.raises(dataclasses.FrozenInstanceError):
        registry.get("tito").label = "Other"
    changed = dataclasses.replace(registry.get("tito"), label="Tiliote (TITO)")
    assert changed.label == "Tiliote (TITO)" and registry.get("tito").label == "Bank statement (TITO)"
    registry.formats().pop("tito")
    assert registry.get("tito") is not None, "formats() hands out a copy"


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
def test_each_sample_is_detected_as_its_format_through_the_registry(path):
    sniff = xmlsafe.sniff(path.read_bytes(), path.name)
    found = [code for code, f in registry.formats().items() if f.detect(sniff)]
    expected = _expected(path)
    assert found == ([expected] if expected else [])


@pytest.mark.parametrize("path", [p for p in FILES if _expected(p)], ids=lambda p: p.name)
def test_every_reader_gives_the_same_shape(path):
    """Each reader, for each sample it accepts: ``(statement, entry)`` pairs,
    a statement's pairs together, ``None`` only for a statement without
    entries, and the statements and entries ``parse`` gives."""
    described = registry.get(_expected(path))
    data = path.read_bytes()
    parse = {"camt": camt.parse, "tito": tito.parse, "ktl": ktl.parse}[described.code.split(".")[0]]
    try:
        parsed = parse(data, path.name)
    except LinkFormatError as error:
        with pytest.raises(type(error)) as streamed:
            list(described.read(data, path.name))
        assert str(streamed.value) == str(error)
        return
    runs = []
    for statement, entry in described.read(data, path.name):
        assert isinstance(statement, Statement) and statement.entries == []
        assert entry is None or isinstance(entry, Entry)
        if not runs or runs[-1][0] is not statement:
            assert all(st is not statement for st, _entries in runs), "a statement comes in one run"
            runs.append((statement, []))
        if entry is not None:
            runs[-1][1].append(entry)
        else:
            assert runs[-1][1] == []
    assert len(runs) == len(parsed.statements)
    for (statement, entries), expected in zip(runs, parsed.statements):
        values = dataclasses.asdict(expected)
        expected_entries = values.pop("entries")
        header = dataclasses.asdict(statement)
        header.pop("entries")
        assert header == values
        got = [dataclasses.asdict(e) for e in entries]
        if described.code == "ktl":  # account by account, day by day
            expected_entries = by_day(expected_entries)
        assert got == expected_entries


def test_an_addon_registers_a_format_and_detection_and_reading_use_it(clean_registry):
    """A made-up one-line format ``SALDO;<IBAN>;<amount>``: registered with
    ``register`` used as a decorator; detected, read and given balances."""

    def is_saldo(sniff):
        return not sniff.is_xml and sniff.head.startswith(b"SALDO;")

    def read(data, file_name=None):
        _tag, iban, amount = data.decode().strip().split(";")
        statement = Statement(
            kind="saldo",
            account_iban=iban,
            currency="EUR",
            balances=[Balance(code="CLBD", amount=Decimal(amount), date=date(2024, 3, 4))],
        )
        yield statement, None

    @registry.register
    def saldo():
        return registry.BankFormat(
            code="saldo",
            label="Balance (SALDO)",
            role="report",
            detect=is_saldo,
            read=read,
            booked_codes=("CLBD",),
            sequence=5,
        )

    data = b"SALDO;FI4819503000000010;1234.50\n"
    sniff = xmlsafe.sniff(data, "x.txt")
    assert [code for code, f in registry.formats().items() if f.detect(sniff)] == ["saldo"]
    assert next(iter(registry.formats())) == "saldo"
    described = registry.get("saldo")
    ((statement, entry),) = described.read(data)
    assert entry is None and described.booked_balance(statement).amount == Decimal("1234.50")
    assert described.available_balance(statement) is None
    registry.unregister("saldo")
    assert registry.get("saldo") is None


def test_register_replaces_a_format_of_the_same_code(clean_registry):
    registry.register(dataclasses.replace(registry.get("camt.053"), lump_sum_codes=("705", "706")))
    assert registry.get("camt.053").is_lump_sum("706")
    assert not registry.get("camt.053").is_lump_sum("710")
    assert not registry.get("camt.053").is_lump_sum(None)
    with pytest.raises(TypeError):
        registry.register({"code": "x"})


def test_roles_for_payment_files_have_room():
    outgoing = registry.BankFormat(code="pain.001", label="Payments", role="payments", direction="out")
    assert not outgoing.imported and outgoing.read is None
    feedback = registry.BankFormat(
        code="pain.002",
        label="Payment status",
        role="payment_feedback",
        detect=lambda sniff: False,
        handler=("some.model", "_handle"),
    )
    assert not feedback.imported and feedback.handler == ("some.model", "_handle")


@pytest.mark.parametrize(
    "values,word",
    [
        ({"role": "ledger"}, "role"),
        ({"role": "statement"}, "reader"),
        ({"role": "report", "read": iter, "balance_pick": "best"}, "balance_pick"),
        ({"role": "itemisation", "read": iter, "itemise_by": "week"}, "itemise_by"),
        ({"role": "report", "read": iter, "code": ""}, "code"),
    ],
)
def test_a_wrong_description_is_refused_naming_what_is_wrong(values, word):
    with pytest.raises(ValueError, match=word):
        registry.BankFormat(**dict({"code": "x", "label": "X"}, **values))
    with pytest.raises(ValueError, match="role"):
        registry.by_role("ledger")


def _balance(code, amount, day, stamp=None):
    return Balance(code=code, amount=Decimal(amount), date=day, timestamp=stamp)


def test_balances_first_code_or_latest():
    statement = Statement(
        kind="camt.052",
        balances=[
            _balance("CLBD", "100", date(2024, 3, 3)),
            _balance("ITBD", "150", date(2024, 3, 4), datetime(2024, 3, 4, 10, 0)),
            _balance("ITBD", "170", date(2024, 3, 4), datetime(2024, 3, 4, 12, 0)),
            _balance("CLAV", "90", date(2024, 3, 3)),
        ],
    )
    report, day = registry.get("camt.052"), registry.get("camt.053")
    assert report.booked_balance(statement).amount == Decimal("170"), "the newest interim balance"
    assert report.available_balance(statement).amount == Decimal("90")
    assert day.booked_balance(statement).amount == Decimal("100"), "a statement's closing balance"
    assert registry.get("ktl").booked_balance(statement) is None
    # the same moment: the code listed first wins
    tie = Statement(
        kind="camt.052", balances=[_balance("CLBD", "1", date(2024, 3, 4)), _balance("ITBD", "2", date(2024, 3, 4))]
    )
    assert report.booked_balance(tie).amount == Decimal("2")
