"""Damaged bank files: every public sample, changed at random places (bytes
replaced, cut out or repeated, with a fixed seed so that a failure can be
repeated), must either still be read or be refused with a
:class:`LinkFormatError` (which names the file and, where it can, the
element or line). Anything else (an ``IndexError``, a ``ValueError`` from
deep inside a library) would leave a message without a clear error.

The damage found two such faults before this test existed: a time zone
offset of more than a day in a camt time stamp, and a superscript digit in
a KTL account number (``'²'.isdigit()`` is true in Python)."""

import random

import pytest

from odoo.addons.heeros_link_bank.formats import camt, detect, ktl, tito
from odoo.addons.heeros_link_base.formats import xmlsafe
from odoo.addons.heeros_link_base.formats.errors import LinkFormatError
from tests.common import SHARED_DATA
from tests.fuzz import damage as _damage

SAMPLES = SHARED_DATA / "bank" / "samples"
ROUNDS = 120
DETECTORS = (detect.is_camt052, detect.is_camt053, detect.is_camt054, detect.is_tito, detect.is_ktl)


def _read_streaming(data, file_name):
    return list(camt.iter_entries(data, file_name))


def _samples():
    files = []
    for path in sorted(SAMPLES.glob("*/*")):
        if path.suffix == ".xml":
            files.append((path, (camt.parse, _read_streaming)))
        elif "ktl" in path.name:
            files.append((path, (ktl.parse,)))
        elif "tito" in path.name:
            files.append((path, (tito.parse,)))
    return files


SAMPLE_FILES = _samples()


def test_there_are_samples_of_every_kind():
    kinds = {parsers[0].__module__.rsplit(".", 1)[-1] for _path, parsers in SAMPLE_FILES}
    assert len(SAMPLE_FILES) > 30
    assert kinds == {"camt", "ktl", "tito"}


@pytest.mark.parametrize(("path", "parsers"), SAMPLE_FILES, ids=[f"{p.parent.name}/{p.name}" for p, _ in SAMPLE_FILES])
def test_damaged_sample_is_read_or_refused_clearly(path, parsers):
    data = path.read_bytes()
    rng = random.Random(f"{path.parent.name}/{path.name}")
    for round_ in range(ROUNDS):
        damaged = _damage(data, rng)
        try:
            sniff = xmlsafe.sniff(damaged, path.name)
            for is_kind in DETECTORS:
                is_kind(sniff)
        except LinkFormatError:
            pass
        for parser in parsers:
            try:
                parser(damaged, file_name=path.name)
            except LinkFormatError as error:
                assert path.name in str(error), f"round {round_}: the error names the file: {error}"
            except Exception as error:
                pytest.fail(f"round {round_} of {path.name}: {type(error).__name__}: {error}")


def test_time_zone_offset_beyond_a_day_is_a_record_error():
    data = (SAMPLES / "finnish_camt" / "corporatejs_camt053_1.xml").read_bytes()
    stamp = data.index(b"<CreDtTm>") + len(b"<CreDtTm>")
    end = data.index(b"</CreDtTm>", stamp)
    damaged = data[:stamp] + b"2013-12-29T10:00:00+62:00" + data[end:]
    with pytest.raises(LinkFormatError) as error:
        camt.parse(damaged, file_name="offset.xml")
    assert "2013-12-29T10:00:00+62:00" in str(error.value) and "offset.xml" in str(error.value)


def test_non_ascii_digit_in_an_account_number_is_a_record_error():
    data = (SAMPLES / "finnish_legacy" / "corporatejs_ktl_1.txt").read_bytes()
    lines = data.split(b"\n")
    payment = next(i for i, line in enumerate(lines) if line.startswith(b"3"))
    lines[payment] = lines[payment][:5] + b"\xb2" + lines[payment][6:]  # Latin-1 superscript two
    with pytest.raises(LinkFormatError) as error:
        ktl.parse(b"\n".join(lines), file_name="account.ktl", check_totals=False)
    assert "account.ktl" in str(error.value)
