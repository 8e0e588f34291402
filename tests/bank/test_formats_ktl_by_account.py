"""KTL read account by account (``ktl.iter_by_account``, the reader the
import uses): the same statements and payments as ``parse`` on every KTL
sample and on damaged files, each account in one run and each booking day
in one piece, errors raised before any payment, and memory that does not
grow with the number of payments."""

import dataclasses
import json
import subprocess
import sys
from itertools import groupby
from pathlib import Path

import pytest

from odoo.addons.heeros_link_bank.formats import ktl
from odoo.addons.heeros_link_base.formats.errors import LinkFormatError, RecordError
from tests import fuzz
from tests.bank.large_files import ktl_file
from tests.common import SHARED_DATA, TEST_DATA

REPO = Path(__file__).resolve().parent.parent.parent
SAMPLES = sorted(
    p for folder in (SHARED_DATA / "bank" / "samples", TEST_DATA / "bank") for p in folder.rglob("*ktl*.txt")
)


def _by_account(data, name, **options):
    """``[(header dict, [entry dicts])]``, one item per run of pairs with the
    same header object."""
    runs = []
    for statement, entry in ktl.iter_by_account(data, name, **options):
        if not runs or runs[-1][0] is not statement:
            runs.append((statement, []))
        runs[-1][1].append(entry)
    result = []
    for statement, entries in runs:
        header = dataclasses.asdict(statement)
        assert header.pop("entries") == []
        result.append((header, [dataclasses.asdict(e) for e in entries]))
    return result


def by_day(entries):
    """``entries`` (dicts) day by day, days in order of first appearance, a
    day's payments in file order."""
    first = {}
    for entry in entries:
        first.setdefault(entry["booking_date"], len(first))
    return sorted(entries, key=lambda e: first[e["booking_date"]])


def _parsed(data, name, **options):
    """``parse``'s statements, each one's payments :func:`by_day`."""
    result = []
    for statement in ktl.parse(data, name, **options).statements:
        values = dataclasses.asdict(statement)
        result.append((values, by_day(values.pop("entries"))))
    return result


def _same_or_same_error(data, name, **options):
    try:
        expected = _parsed(data, name, **options)
    except LinkFormatError as error:
        pairs = ktl.iter_by_account(data, name, **options)
        with pytest.raises(type(error)) as streamed:
            next(pairs)  # the whole file is checked before the first payment
        assert str(streamed.value) == str(error)
        assert getattr(streamed.value, "line", None) == getattr(error, "line", None)
        return False
    got = _by_account(data, name, **options)
    assert got == expected, name
    for _header, entries in got:
        days = [day for day, _group in groupby(e["booking_date"] for e in entries)]
        assert len(days) == len(set(days)), "a booking day comes in one piece"
    return True


def test_samples_are_there():
    assert len(SAMPLES) >= 4, SAMPLES


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("check_totals", [True, False])
def test_every_sample_reads_as_parse_account_by_account(path, check_totals):
    _same_or_same_error(path.read_bytes(), path.name, check_totals=check_totals)


def test_the_public_sample_fails_before_any_payment_and_reads_without_the_check():
    path = SHARED_DATA / "bank" / "samples" / "finnish_legacy" / "corporatejs_ktl_1.txt"
    data = path.read_bytes()
    assert not _same_or_same_error(data, path.name)
    assert _same_or_same_error(data, path.name, check_totals=False)
    # the pasted 2017 record is another account's: two accounts, each one run
    assert len(_by_account(data, path.name, check_totals=False)) == 2


def test_accounts_that_come_back_come_in_one_run():
    """ktl_latin1.txt: account A, account B, then A again in the next batch
    (another booking day). Streamed in file order that is three runs; here
    two, A's with both its days."""
    data = (TEST_DATA / "bank" / "ktl_latin1.txt").read_bytes()
    runs = _by_account(data, "ktl_latin1.txt")
    assert [len(entries) for _header, entries in runs] == [5, 2]
    (first, entries), (second, _) = runs
    assert first["account_other"] == "19503000000010" and second["account_other"] == "57169020004185"
    assert [str(e["booking_date"]) for e in entries] == ["2024-03-05"] * 4 + ["2024-03-06"]
    assert first["extra"]["booked_by_day"] == {
        entries[0]["booking_date"]: (4, sum(e["amount"] for e in entries[:4])),
        entries[4]["booking_date"]: (1, entries[4]["amount"]),
    }


def test_a_day_split_by_another_day_is_put_together():
    """Payments of 5 March around one of 1 March in the same batch: the
    5 March ones come together, in file order, then the one of 1 March."""
    lines = (TEST_DATA / "bank" / "ktl_latin1.txt").read_bytes().split(b"\r\n")
    lines[2] = lines[2][:15] + b"240301" + lines[2][21:]
    data = b"\r\n".join(lines)
    assert _same_or_same_error(data, "split.txt")
    _header, entries = _by_account(data, "split.txt")[0]
    assert [e["line"] for e in entries] == [2, 4, 5, 3, 10]


def test_many_groups_are_sorted_in_memory_the_same(monkeypatch):
    data = (TEST_DATA / "bank" / "ktl_latin1.txt").read_bytes()
    expected = _by_account(data, "ktl_latin1.txt")
    monkeypatch.setattr(ktl, "MAX_PASSES", 1)
    assert _by_account(data, "ktl_latin1.txt") == expected


def test_nothing_is_read_before_the_first_payment_is_asked_for():
    pairs = ktl.iter_by_account(b"not a KTL file at all", "x.txt")
    with pytest.raises(RecordError):
        next(pairs)


def test_damaged_files_fail_as_parse_fails():
    """Mutated samples (the fuzz cases): the same error, or the same
    payments account by account."""
    refused = read = 0
    for number in range(60):
        name, _mutation, data = fuzz.case_input("ktl", number)
        if _same_or_same_error(data, name):
            read += 1
        else:
            refused += 1
    assert refused > 5 and read > 5


_CHILD = """
import json, sys
from pathlib import Path
sys.path.insert(0, {repo!r})
import odoo.addons
_odoo = Path(next(iter(odoo.addons.__path__))).resolve().parent.parent
odoo.addons.__path__.extend([{repo!r}, str(_odoo / "addons")])
from odoo.addons.heeros_link_bank.formats import ktl
data = Path(sys.argv[1]).read_bytes()
def status(key):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(key))
resident = status("VmRSS:")
count = sum(1 for _pair in ktl.iter_by_account(data, "large"))
growth = status("VmHWM:") - resident
print(json.dumps({{"size": len(data), "growth": growth, "count": count}}))
"""


def test_memory_stays_near_the_file_size(tmp_path):
    """In a fresh process: reading a 4 MB KTL file account by account takes
    less than 2.5 times the file above what the process held with its bytes
    (parse takes about 20 times)."""
    path = tmp_path / "large.ktl"
    path.write_bytes(ktl_file(4_000_000))
    out = subprocess.run(
        [sys.executable, "-c", _CHILD.format(repo=str(REPO)), str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    row = json.loads(out.stdout.strip().splitlines()[-1])
    assert row["count"] > 4_000_000 // 100
    assert row["growth"] < 2.5 * row["size"], row
