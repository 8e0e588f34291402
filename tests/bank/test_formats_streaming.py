"""Streaming TITO and KTL reads (``iter_entries``): the same statements and
entries as ``parse``, the same errors, headers complete by their last entry,
and memory that does not grow with the number of entries."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from odoo.addons.heeros_link_bank.formats import ktl, tito
from odoo.addons.heeros_link_base.formats.errors import LinkFormatError, RecordError
from tests import fuzz
from tests.bank.large_files import ktl_file, tito_file
from tests.common import SHARED_DATA, TEST_DATA

REPO = Path(__file__).resolve().parent.parent.parent
MODULES = {"tito": tito, "ktl": ktl}


def _samples(kind):
    folders = (SHARED_DATA / "bank" / "samples", TEST_DATA / "bank")
    found = sorted(p for folder in folders for p in folder.rglob(f"*{kind}*.txt"))
    assert found, f"no {kind} samples"
    return found


def _header(statement):
    values = dataclasses.asdict(statement)
    assert values.pop("entries") == []
    return values


def _streamed(module, data, name, **options):
    """``[(header dict, [entry dicts])]`` in order of first appearance, and
    the header of each statement as it was when its last entry came."""
    statements, at_last = {}, {}
    for statement, entry in module.iter_entries(data, name, **options):
        slot = statements.setdefault(id(statement), (statement, []))
        if entry is not None:
            slot[1].append(dataclasses.asdict(entry))
        at_last[id(statement)] = _header(statement)
    return ([(_header(st), entries) for st, entries in statements.values()], [at_last[key] for key in statements])


def _parsed(module, data, name, **options):
    document = module.parse(data, name, **options)
    result = []
    for statement in document.statements:
        values = dataclasses.asdict(statement)
        result.append((values, values.pop("entries")))
    return result


@pytest.mark.parametrize("kind", sorted(MODULES))
def test_every_sample_streams_as_parse_reads_it(kind):
    module = MODULES[kind]
    options = [{}] if kind == "tito" else [{}, {"check_totals": False}]
    compared = 0
    for path in _samples(kind):
        data = path.read_bytes()
        for option in options:
            try:
                parsed = _parsed(module, data, path.name, **option)
            except RecordError as error:
                with pytest.raises(RecordError) as streamed_error:
                    _streamed(module, data, path.name, **option)
                assert str(streamed_error.value) == str(error)
                assert streamed_error.value.line == error.line
                continue
            streamed, at_last = _streamed(module, data, path.name, **option)
            assert streamed == parsed, path.name
            # the header was complete when its last entry was yielded
            assert at_last == [header for header, _entries in parsed], path.name
            assert all(entries for _header, entries in parsed) or kind == "tito"
            compared += 1
    assert compared >= 3


def test_statement_without_entries_is_yielded_alone():
    data = (TEST_DATA / "bank" / "tito_latin1.txt").read_bytes()
    lines = data.splitlines(keepends=True)
    data = b"".join(line for line in lines if not line.startswith((b"T10", b"T11", b"T80")))
    pairs = list(tito.iter_entries(data, "empty.tito"))
    assert [entry for _st, entry in pairs] == [None, None]
    assert [_header(st) for st, _e in pairs] == [values for values, _entries in _parsed(tito, data, "empty.tito")]


@pytest.mark.parametrize("kind", sorted(MODULES))
def test_damaged_files_fail_the_same_way_streamed(kind):
    """Mutated samples (the fuzz cases): the stream raises what parse raises,
    of the same type and naming the same file, line and record."""
    module = MODULES[kind]
    refused = 0
    for number in range(40):
        name, _mutation, data = fuzz.case_input(kind, number)
        try:
            expected = _parsed(module, data, name)
        except LinkFormatError as error:
            with pytest.raises(type(error)) as streamed_error:
                _streamed(module, data, name)
            assert str(streamed_error.value) == str(error)
            assert getattr(streamed_error.value, "line", None) == getattr(error, "line", None)
            refused += 1
            continue
        assert _streamed(module, data, name)[0] == expected
    assert refused > 5


def test_a_wrong_ktl_trailer_raises_after_its_payments():
    path = TEST_DATA / "bank" / "ktl_wrong_trailer.txt"
    data = path.read_bytes()
    with pytest.raises(RecordError) as parsed:
        ktl.parse(data, path.name)
    seen = []
    with pytest.raises(RecordError) as streamed:
        for _statement, entry in ktl.iter_entries(data, path.name):
            seen.append(entry.line)
    assert str(streamed.value) == str(parsed.value)
    assert streamed.value.element == "record 9"
    assert seen and max(seen) < streamed.value.line


def test_large_files_build_with_matching_totals():
    document = tito.parse(tito_file(50_000), "large.tito")
    (statement,) = document.statements
    assert len({entry.archive_id for entry in statement.entries}) == len(statement.entries)
    assert statement.credit_sum == sum(e.amount for e in statement.entries if e.amount > 0)
    assert statement.debit_count == sum(1 for e in statement.entries if e.amount < 0)
    document = ktl.parse(ktl_file(50_000), "large.ktl")
    (batch,) = document.extra["batches"]
    assert not batch["mismatch"] and batch["count"][0] > 500


_CHILD = """
import json, sys
from pathlib import Path
sys.path.insert(0, {repo!r})
import odoo.addons
_odoo = Path(next(iter(odoo.addons.__path__))).resolve().parent.parent
odoo.addons.__path__.extend([{repo!r}, str(_odoo / "addons")])
from odoo.addons.heeros_link_bank.formats import ktl, tito
kind = sys.argv[1]
data = Path(sys.argv[2]).read_bytes()
module = tito if kind == "tito" else ktl
def status(key):
    # VmRSS now, VmHWM the highest since this program started (ru_maxrss
    # would carry over the parent's across exec)
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(key))
resident = status("VmRSS:")
count = sum(1 for _pair in module.iter_entries(data, "large"))
growth = status("VmHWM:") - resident
print(json.dumps({{"size": len(data), "growth": growth, "count": count}}))
"""


@pytest.mark.parametrize("kind,size", [("tito", 8_000_000), ("ktl", 4_000_000)])
def test_streaming_memory_stays_near_the_file_size(kind, size, tmp_path):
    """In a fresh process: the highest resident memory while streaming a
    large file, above what the process held with the file's bytes read,
    stays below 2.5 times the file (its decoded text and one entry at a
    time; read whole, the same files take 8 and 20 times their size)."""
    path = tmp_path / f"large.{kind}"
    path.write_bytes((tito_file if kind == "tito" else ktl_file)(size))
    out = subprocess.run(
        [sys.executable, "-c", _CHILD.format(repo=str(REPO)), kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    row = json.loads(out.stdout.strip().splitlines()[-1])
    assert row["count"] > size // 250
    assert row["growth"] < 2.5 * row["size"], row


def test_ktl_accounts_that_come_back_reuse_their_header():
    """ktl_latin1.txt has two accounts in its first batch and the first one
    again in the next: three runs, two headers, parse's two statements."""
    data = (TEST_DATA / "bank" / "ktl_latin1.txt").read_bytes()
    runs = []
    for statement, entry in ktl.iter_entries(data, "ktl_latin1.txt"):
        if not runs or runs[-1][0] is not statement:
            runs.append((statement, []))
        runs[-1][1].append(entry.line)
    headers = list({id(st): st for st, _lines in runs}.values())
    assert len(runs) > len(headers) == len(ktl.parse(data, "ktl_latin1.txt").statements) == 2
    assert [line for _st, lines in runs for line in lines] == sorted(line for _st, lines in runs for line in lines)
