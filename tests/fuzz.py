"""Seeded fuzzing of every parser of the formats layers.

Each case takes a public sample (``/work/shared/data``, ``tests/data``),
changes it with one seeded mutation and hands it to one parser. A case
passes when the parser either reads the input or refuses it with a
:class:`LinkFormatError` that names the file, and does so within bounds
relative to a parse of the unchanged sample:

* time, in ``bench/bench_fuzz.py`` only (the test suite bounds memory, not
  seconds): at most ``time_factor`` times (the sample's own parse time plus
  the size of the input times the lowest parse time per byte of any sample
  of that parser), plus a fixed floor for timer noise: work that grows
  faster than the input shows up as soon as the input is large;
* memory, everywhere: a ``tracemalloc`` peak of at most ``memory_factor`` times the
  same sum made of peaks, plus a floor.

The same case list is run by the test suite (about a thousand cases) and
by ``bench/bench_fuzz.py`` (ten thousand per parser). The case number and
the seed name the exact input, so a failure can be repeated with
:func:`case_input`.
"""

import random
import re
import time
import tracemalloc
from dataclasses import dataclass, field
from functools import cache

from odoo.addons.heeros_link_bank.formats import camt, ktl, pain001, pain002, tito
from odoo.addons.heeros_link_bank.formats import detect as bank_detect
from odoo.addons.heeros_link_base.formats import xmlsafe
from odoo.addons.heeros_link_base.formats.errors import LinkFormatError, MalformedDocument
from odoo.addons.heeros_link_einvoice.formats import detect as einvoice_detect
from odoo.addons.heeros_link_einvoice.formats import finvoice

from .common import SHARED_DATA, TEST_DATA

SEED = "heeros-link-fuzz"

# -- parsers ---------------------------------------------------------------

DETECTORS = (
    bank_detect.is_camt052,
    bank_detect.is_camt053,
    bank_detect.is_camt054,
    bank_detect.is_tito,
    bank_detect.is_ktl,
    bank_detect.is_pain001,
    bank_detect.is_pain002,
    einvoice_detect.is_finvoice,
    einvoice_detect.is_finvoice_attachments,
    einvoice_detect.is_ubl_invoice,
)


def _camt(data, name):
    camt.parse(data, name)


def _camt_stream(data, name):
    for _statement, _entry in camt.iter_entries(data, name):
        pass


def _tito(data, name):
    tito.parse(data, name)


def _ktl(data, name):
    ktl.parse(data, name)


def _pain001(data, name):
    try:
        pain001.validate(data, name)
    except LinkFormatError:
        pass  # reading must not depend on validity: read it all the same
    pain001.read(data, name)


def _pain002(data, name):
    pain002.parse(data, name)


def _finvoice(data, name):
    if b"<FinvoiceAttachments" in data[:8192]:
        finvoice.parse_attachment_message(data, name)
    else:
        finvoice.parse(data, name)


def _detection(data, name):
    sniff = xmlsafe.sniff(data, name)
    for detector in DETECTORS:
        detector(sniff)
    if sniff.error:
        # detection reports what it could not read in the sniff, typed and
        # naming the file: counted as a refusal like a raised error
        raise MalformedDocument(sniff.error, file_name=name)


# -- samples ---------------------------------------------------------------


def _files(*folders):
    for folder in folders:
        yield from sorted(p for p in folder.rglob("*") if p.is_file())


@cache
def samples():
    """``{parser name: [(file name, bytes), ...]}`` from the public samples."""
    found = {"camt": [], "tito": [], "ktl": [], "pain001": [], "pain002": [], "finvoice": [], "detection": []}
    for path in _files(SHARED_DATA / "bank" / "samples", SHARED_DATA / "einvoice" / "samples", TEST_DATA):
        name = path.name.lower()
        if path.suffix.lower() not in (".xml", ".txt", ".ktl", ".tito", ".nda"):
            continue
        data = path.read_bytes()
        if len(data) > 200_000:
            continue
        entry = (path.name, data)
        found["detection"].append(entry)
        head = data[:4096]
        if b"camt.05" in head and path.suffix.lower() == ".xml":
            found["camt"].append(entry)
        elif b"pain.002." in head and path.suffix.lower() == ".xml":  # answers name pain.001 too
            found["pain002"].append(entry)
        elif b"pain.001." in head and path.suffix.lower() == ".xml":
            found["pain001"].append(entry)
        elif b"<Finvoice" in data and b"<xs:schema" not in head:
            found["finvoice"].append(entry)
        elif "tito" in name:
            found["tito"].append(entry)
        elif "ktl" in name:
            found["ktl"].append(entry)
    return found


#: parser name -> (functions, sample set); the functions run on the same input
PARSERS = {
    "camt": ((_camt, _camt_stream), "camt"),
    "tito": ((_tito,), "tito"),
    "ktl": ((_ktl,), "ktl"),
    "pain001": ((_pain001,), "pain001"),
    "pain002": ((_pain002,), "pain002"),
    "finvoice": ((_finvoice,), "finvoice"),
    "detection": ((_detection,), "detection"),
}

# -- mutations -------------------------------------------------------------

_START_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)(?:\s[^<>]*)?>")
_NUMBER_TEXT = re.compile(rb">\s*(-?\d+(?:[.,]\d+)?)\s*<")
_DATE_TEXT = re.compile(rb">\s*(\d{4}-\d{2}-\d{2}(?:T[\d:.+-]+Z?)?|\d{8})\s*<")
_DIGIT_RUN = re.compile(rb"\d{6,}")
_HUGE = (
    b"9" * 14,
    b"99999999999999.99",
    b"1" + b"0" * 29,
    b"9" * 400,
    b"9" * 5000,
    b"-5",
    b"1e999",
    b"0." + b"0" * 3000 + b"1",
    "\u0663\u0664".encode(),
    b"NaN",
    b"Infinity",
    b"12,34,56",
    b"\xc2\xb2",
    b"",
)
_DATES = (
    b"2023-02-30",
    b"2023-13-01",
    b"0000-00-00",
    b"9999-99-99",
    b"2023-02-29T25:61:61",
    b"2023-01-01T10:00:00+99:99",
    b"20230230",
    b"99999999",
    b"1-1-1",
    b"2023-1-1",
    b"2023-02-28T10:00:00" + b"9" * 500,
)
_FIXED_DATES = (b"991332", b"000000", b"230230", b"2302xx", b"\xb2\xb2\xb2\xb2\xb2\xb2")


def _pick(rng, pattern, data):
    matches = list(pattern.finditer(data))
    return rng.choice(matches) if matches else None


def _element_span(data, rng):
    """``(start, end)`` of a random element (start tag to its end tag)."""
    match = _pick(rng, _START_TAG, data)
    if match is None:
        return None
    end = data.find(b"</" + match.group(1) + b">", match.end())
    if end < 0:
        return None
    return match.start(), end + len(match.group(1)) + 3


def damage(data, rng):
    """Bytes replaced (by any byte, or by a digit, sign or bracket), cut out
    or repeated at one to five random places (``test_formats_damaged``
    applies it to every bank sample)."""
    damaged = bytearray(data)
    kind = rng.random()
    for _ in range(rng.randint(1, 5)):
        pos = rng.randrange(len(damaged))
        if kind < 0.35:
            damaged[pos] = rng.randrange(256)
        elif kind < 0.65:
            damaged[pos] = ord(rng.choice("0123456789 +-.:<>/AZaz\u00b2"))
        elif kind < 0.85:
            del damaged[pos : pos + rng.randint(1, 40)]
        else:
            damaged[pos:pos] = damaged[rng.randrange(len(damaged)) :][: rng.randint(1, 60)]
        if not damaged:
            break
    return bytes(damaged)


def truncate(data, rng):
    return data[: rng.randrange(len(data))]


def duplicate_element(data, rng):
    span = _element_span(data, rng)
    if span is None:
        return duplicate_line(data, rng)
    start, end = span
    return data[:end] + data[start:end] * rng.choice((1, 1, 2, 50)) + data[end:]


def remove_element(data, rng):
    span = _element_span(data, rng)
    if span is None:
        return remove_line(data, rng)
    start, end = span
    return data[:start] + data[end:]


def huge_number(data, rng):
    match = _pick(rng, _NUMBER_TEXT, data)
    if match is None:
        return huge_fixed_number(data, rng)
    return data[: match.start(1)] + rng.choice(_HUGE) + data[match.end(1) :]


def bad_date(data, rng):
    match = _pick(rng, _DATE_TEXT, data)
    if match is None:
        return bad_fixed_date(data, rng)
    return data[: match.start(1)] + rng.choice(_DATES) + data[match.end(1) :]


def many_attributes(data, rng):
    match = _pick(rng, _START_TAG, data)
    if match is None:
        return long_line(data, rng)
    count = rng.choice((10, 64, 65, 1000, 100_000))
    attributes = b"".join(b' z%d="v"' % i for i in range(count))
    at = match.start() + 1 + len(match.group(1))
    return data[:at] + attributes + data[at:]


def deep_nesting(data, rng):
    match = _pick(rng, _START_TAG, data)
    if match is None:
        return many_lines(data, rng)
    depth = rng.choice((50, 250, 300, 5000))
    return data[: match.end()] + b"<d>" * depth + b"</d>" * depth + data[match.end() :]


def many_elements(data, rng):
    match = _pick(rng, _START_TAG, data)
    if match is None:
        return many_lines(data, rng)
    filler = rng.choice((b"<e/>", b"<e>1</e>", b"<!--c-->", b"<?pi x?>"))
    return data[: match.end()] + filler * rng.choice((1000, 5000)) + data[match.end() :]


def long_text(data, rng):
    match = _pick(rng, _NUMBER_TEXT, data) or _pick(rng, _DATE_TEXT, data)
    if match is None:
        return long_line(data, rng)
    return data[: match.start(1)] + b"x" * rng.choice((1000, 50_000)) + data[match.end(1) :]


def _lines(data):
    return data.splitlines(keepends=True) or [data]


def duplicate_line(data, rng):
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines[i:i] = [lines[i]] * rng.choice((1, 2, 20))
    return b"".join(lines)


def remove_line(data, rng):
    lines = _lines(data)
    del lines[rng.randrange(len(lines))]
    return b"".join(lines)


def many_lines(data, rng):
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines[i:i] = [lines[i]] * rng.choice((200, 2000))
    return b"".join(lines)


def long_line(data, rng):
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines[i] = lines[i].rstrip(b"\r\n") + rng.choice((b"9", b" ", b"T")) * 20_000 + b"\n"
    return b"".join(lines)


def huge_fixed_number(data, rng):
    match = _pick(rng, _DIGIT_RUN, data)
    if match is None:
        return damage(data, rng)
    return data[: match.start()] + b"9" * len(match.group()) + data[match.end() :]


def bad_fixed_date(data, rng):
    match = _pick(rng, _DIGIT_RUN, data)
    if match is None:
        return damage(data, rng)
    at = match.start() + rng.randrange(max(1, len(match.group()) - 5))
    return data[:at] + rng.choice(_FIXED_DATES) + data[at + 6 :]


def odd_characters(data, rng):
    damaged = bytearray(data)
    for _ in range(rng.randint(1, 5)):
        pos = rng.randrange(len(damaged))
        damaged[pos : pos + 1] = rng.choice(
            (
                b"\x00",
                "\u00b2".encode(),
                "\u0663".encode(),
                b"\xb2",
                b"\xff\xfe",
                b"&amp;",
                b"&#0;",
                b"]]>",
                b"\xef\xbb\xbf",
            )
        )
    return bytes(damaged)


MUTATIONS = (
    damage,
    truncate,
    duplicate_element,
    remove_element,
    huge_number,
    bad_date,
    many_attributes,
    deep_nesting,
    many_elements,
    long_text,
    odd_characters,
)
FIXED_WIDTH_MUTATIONS = (
    damage,
    truncate,
    duplicate_line,
    remove_line,
    huge_fixed_number,
    bad_fixed_date,
    many_lines,
    long_line,
    odd_characters,
)

# -- running ---------------------------------------------------------------


@dataclass
class Result:
    parser: str
    cases: int = 0
    refused: int = 0
    seconds: float = 0.0
    peak: int = 0  # largest tracemalloc peak of a case, bytes
    slowest: tuple = (0.0, "")  # (ratio of the allowed time, case description)
    failures: list = field(default_factory=list)


@dataclass
class Baseline:
    seconds: float  # the best of three parses of the unchanged sample
    peak: int  # its tracemalloc peak, bytes
    size: int


def _run(functions, data, name):
    """``None`` when read, the typed error when refused; other errors pass up."""
    refused = None
    for function in functions:
        try:
            function(data, name)
        except LinkFormatError as error:
            refused = error
    return refused


def _baseline(functions, data, name):
    best = None
    tracemalloc.reset_peak()
    start_memory = tracemalloc.get_traced_memory()[0]
    for _ in range(3):
        start = time.perf_counter()
        _run(functions, data, name)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    peak = tracemalloc.get_traced_memory()[1] - start_memory
    return Baseline(best, max(peak, 1), max(len(data), 1))


def case_input(parser, number, seed=SEED):
    """``(file name, mutation name, mutated bytes)`` of case ``number``."""
    rng = random.Random(f"{seed}/{parser}/{number}")
    files = samples()[PARSERS[parser][1]]
    name, data = files[number % len(files)]
    fixed_width = parser in ("tito", "ktl") or not data.lstrip(b"\xef\xbb\xbf\r\n\t ").startswith(b"<")
    mutation = rng.choice(FIXED_WIDTH_MUTATIONS if fixed_width else MUTATIONS)
    return name, mutation.__name__, mutation(data, rng) if data else data


def run(
    parser, cases, *, seed=SEED, time_factor=None, time_floor=0.5, memory_factor=20.0, memory_floor=8 * 1024 * 1024
):
    """Run ``cases`` fuzz cases against one parser; return a :class:`Result`.

    ``time_factor`` ``None`` leaves time unbounded (the tests); the bench
    passes one and reports the slowest case against it."""
    functions, sample_set = PARSERS[parser]
    files = samples()[sample_set]
    result = Result(parser)
    if not files:
        result.failures.append("no samples")
        return result
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        baselines = {name: _baseline(functions, data, name) for name, data in files}
        # per byte: the cheapest sample (the largest ones, where the fixed
        # cost of a parse weighs least), so a large input gets no allowance
        # from the fixed cost of a small sample
        rate = min(b.seconds / b.size for b in baselines.values())
        peak_rate = min(b.peak / b.size for b in baselines.values())
        clock = time.perf_counter()
        for number in range(cases):
            name, mutation, data = case_input(parser, number, seed)
            base = baselines[name]
            what = f"{parser} case {number} ({mutation} of {name}, {len(data)} bytes)"
            tracemalloc.reset_peak()
            memory_before = tracemalloc.get_traced_memory()[0]
            start = time.perf_counter()
            try:
                refused = _run(functions, data, name)
            except Exception as error:
                result.failures.append(f"{what}: untyped {type(error).__name__}: {error}"[:500])
                continue
            elapsed = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1] - memory_before
            result.cases += 1
            if refused is not None:
                result.refused += 1
                if name not in str(refused):
                    result.failures.append(f"{what}: the error does not name the file: {refused}")
            size = max(len(data), 1)
            allowed_memory = memory_factor * (base.peak + peak_rate * size) + memory_floor
            if time_factor is not None:
                allowed_time = time_factor * (base.seconds + rate * size) + time_floor
                ratio = elapsed / allowed_time
                if ratio > result.slowest[0]:
                    result.slowest = (ratio, f"{what}: {elapsed:.3f}s of {allowed_time:.3f}s allowed")
                if elapsed > allowed_time:
                    result.failures.append(f"{what}: took {elapsed:.2f}s, allowed {allowed_time:.2f}s")
            result.peak = max(result.peak, peak)
            if peak > allowed_memory:
                result.failures.append(
                    f"{what}: peak memory {peak / 1e6:.1f} MB, allowed {allowed_memory / 1e6:.1f} MB"
                )
        result.seconds = time.perf_counter() - clock
    finally:
        if started:
            tracemalloc.stop()
    return result
