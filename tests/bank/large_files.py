"""Large TITO and KTL files for memory tests and benchmarks: the records of
the Latin-1 test samples repeated with distinct numbers, archive ids and
amounts, and balances, totals and trailers that match them (so that every
check of the parsers passes)."""

from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "bank"
_T10_BYTES = 188 + 2 + 40 + 2  # a T10 and its T11 with line breaks


def _lines(name):
    return (SAMPLES / name).read_bytes().decode("latin-1").splitlines()


def _cents(value, digits):
    return f"{'-' if value < 0 else '+'}{abs(value):0{digits}d}"


def tito_file(size):
    """A one-statement TITO file of about ``size`` bytes (Latin-1): a ``T00``,
    credit and debit ``T10`` transactions each with a ``T11`` message, a
    ``T40`` closing balance and ``T50`` totals of the day and period."""
    lines = _lines("tito_latin1.txt")
    header = lines[0].ljust(322)
    opening = 100_000
    header = header[:71] + _cents(opening, 18) + header[90:]
    model = next(line for line in lines if line.startswith("T10") and "Viitemaksu" in line).ljust(188)
    out = [header]
    credits, debits = [0, 0], [0, 0]
    for number in range(1, max(size // _T10_BYTES, 1) + 1):
        amount = 100 + number % 99_991
        debit = number % 3 == 0
        signed = -amount if debit else amount
        (debits if debit else credits)[0] += 1
        (debits if debit else credits)[1] += amount
        record = (
            model[:6]
            + f"{number:06d}"
            + f"240304LARGE{number:07d}"
            + model[30:48]
            + ("2" if debit else "1")
            + model[49:87]
            + _cents(signed, 18)
            + model[106:]
        )
        out.append(record)
        out.append(f"T1104300Maksu {number:<28d}")
    closing = opening + credits[1] - debits[1]
    out.append(f"T40050240304{_cents(closing, 18)}{_cents(closing, 18)}")
    for period in "12":
        out.append(
            f"T50067{period}240304{credits[0]:08d}{_cents(credits[1], 18)}{debits[0]:08d}{_cents(-debits[1], 18)}"
        )
    return ("\r\n".join(out) + "\r\n").encode("latin-1")


def ktl_file(size):
    """A one-batch KTL file of about ``size`` bytes (Latin-1): a header,
    reference payments with distinct archive ids and amounts, and a trailer
    with their count and sum."""
    lines = _lines("ktl_latin1.txt")
    header = lines[0].ljust(90)
    model = lines[1].ljust(90)
    out = [header]
    count = total = 0
    for number in range(1, max(size // 92, 1) + 1):
        amount = 100 + number % 99_991
        count += 1
        total += amount
        out.append(model[:27] + f"LA{number:014d}" + model[43:77] + f"{amount:010d}" + "0" + model[88] + "0")
    out.append(f"9{count:06d}{total:011d}{0:06d}{0:011d}{0:06d}{0:011d}".ljust(90))
    return ("\r\n".join(out) + "\r\n").encode("latin-1")
