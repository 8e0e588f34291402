"""Parse-only throughput and memory of the camt parser.

Generates camt.053.001.02 statements with 1k, 10k and 100k entries into a
temporary directory (realistic Finnish content: single credit transfers with
Finnish or RF references, outgoing payments, lump sums of reference payments
itemised in ``TxDtls``), then for each size reads it with
:func:`heeros_link_bank.formats.camt.iter_entries` and prints entries per
second, the peak of Python allocations during the parse (tracemalloc) and the
growth of the process's resident memory (which also sees lxml's own C
allocations).

    python bench/bench_camt_parse.py [--sizes 1000,10000,100000] [--keep DIR]

:func:`generate_camt053` is importable by other benchmarks::

    from bench.bench_camt_parse import generate_camt053
"""

import argparse
import gc
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parent.parent

import odoo.addons  # noqa: E402

if str(REPO) not in odoo.addons.__path__:
    odoo.addons.__path__.append(str(REPO))

from odoo.addons.heeros_link_bank.formats import camt  # noqa: E402
from odoo.addons.heeros_link_bank.formats.charset import fi_iban  # noqa: E402
from odoo.addons.heeros_link_base.formats import reference  # noqa: E402

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
FIRST_NAMES = ["Matti", "Maija", "Jussi", "Äijä", "Sanna", "Pekka", "Åsa", "Örjan", "Kaisa", "Ville"]
LAST_NAMES = [
    "Virtanen",
    "Korhonen",
    "Mäkinen",
    "Nieminen",
    "Hämäläinen",
    "Lindström",
    "Öberg",
    "Koskinen",
    "Järvinen",
    "Heikkinen",
]
COMPANIES = ["Sähkö Oy", "Vesihuolto Ky", "Kauppa Äijälä Oy", "Rakennus Öljy Ab", "Tili & Talous Oy"]


def _party(rng):
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _iban(rng):
    return fi_iban("".join(str(rng.randrange(10)) for _ in range(14)).replace("0", "1", 1))


def _reference(rng):
    base = str(rng.randrange(1000, 10**9))
    national = reference.fi_make(base)
    return reference.rf_make(national) if rng.random() < 0.3 else national


def _amount(rng, low=5, high=5000):
    return Decimal(rng.randrange(low * 100, high * 100)) / 100


def _bal(code, amount, day, ccy):
    indicator = "CRDT" if amount >= 0 else "DBIT"
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="{ccy}">{abs(amount):.2f}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>'
        f"<Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>\n"
    )


def _tx(rng, amount, indicator, ccy, party, iban, ref=None, text=None, archive=None, day=None):
    side = "Dbtr" if indicator == "CRDT" else "Cdtr"
    parts = ["<TxDtls><Refs>"]
    if archive:
        parts.append(f"<AcctSvcrRef>{archive}</AcctSvcrRef>")
    parts.append(
        f"<EndToEndId>{'NOTPROVIDED' if indicator == 'CRDT' else 'E2E' + str(rng.randrange(10**8))}</EndToEndId></Refs>"
    )
    parts.append(f'<AmtDtls><TxAmt><Amt Ccy="{ccy}">{amount:.2f}</Amt></TxAmt></AmtDtls>')
    parts.append(
        f"<RltdPties><{side}><Nm>{escape(party)}</Nm></{side}>"
        f"<{side}Acct><Id><IBAN>{iban}</IBAN></Id></{side}Acct></RltdPties>"
    )
    parts.append("<RmtInf>")
    if text:
        parts.append(f"<Ustrd>{escape(text)}</Ustrd>")
    if ref:
        issuer = "<Issr>ISO</Issr>" if ref.startswith("RF") else ""
        parts.append(
            "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry>"
            f"{issuer}</Tp><Ref>{ref}</Ref></CdtrRefInf></Strd>"
        )
    parts.append("</RmtInf>")
    if day:
        parts.append(f"<RltdDts><AccptncDtTm>{day.isoformat()}T12:00:00+02:00</AccptncDtTm></RltdDts>")
    parts.append("</TxDtls>")
    return "".join(parts)


def generate_camt053(
    path,
    n_entries,
    iban="FI4819503000000010",
    start_balance=Decimal("10000.00"),
    *,
    currency="EUR",
    statement_date=date(2024, 3, 1),
    seed=2024,
):
    """Write a camt.053.001.02 statement with ``n_entries`` entries to ``path``.

    About 65 % are incoming single transfers (Finnish or RF reference, some
    with a message), 15 % outgoing transfers, 20 % lump sums of 2-6
    reference payments itemised as ``TxDtls`` (``705 VIITESIIRROT``). The
    file is written entry by entry, so any size fits in memory. Returns a
    dict with ``entries``, ``details``, ``credit_sum``, ``debit_sum``,
    ``opening_balance``, ``closing_balance``, ``bytes`` and ``path``.
    """
    rng = random.Random(seed)
    path = Path(path)
    start_balance = Decimal(start_balance)
    day = statement_date
    previous = day - timedelta(days=1)
    body = path.with_suffix(path.suffix + ".entries")
    credit_sum = debit_sum = Decimal("0.00")
    credit_count = debit_count = details = 0
    with body.open("w", encoding="utf-8") as out:
        for number in range(1, n_entries + 1):
            archive = f"{day:%y%m%d}{number:010d}AR"
            roll = rng.random()
            txs = []
            code = "710TILISIIRTO"
            domain = ("PMNT", "RCDT", "ESCT")
            batch = ""
            if roll < 0.65:
                indicator = "CRDT"
                amount = _amount(rng)
                text = f"Lasku {rng.randrange(10**5)}" if rng.random() < 0.4 else None
                txs.append(
                    _tx(
                        rng,
                        amount,
                        indicator,
                        currency,
                        _party(rng),
                        _iban(rng),
                        ref=_reference(rng) if rng.random() < 0.8 else None,
                        text=text,
                        day=previous,
                    )
                )
            elif roll < 0.80:
                indicator = "DBIT"
                amount = _amount(rng, 20, 20000)
                domain = ("PMNT", "ICDT", "ESCT")
                txs.append(
                    _tx(
                        rng,
                        amount,
                        indicator,
                        currency,
                        rng.choice(COMPANIES),
                        _iban(rng),
                        ref=_reference(rng),
                        day=day,
                    )
                )
            else:
                indicator = "CRDT"
                code = "705 VIITESIIRROT"
                domain = ("PMNT", "RCDT", "DMCT")
                parts = [_amount(rng, 5, 800) for _ in range(rng.randrange(2, 7))]
                amount = sum(parts)
                batch = f"<Btch><NbOfTxs>{len(parts)}</NbOfTxs></Btch>"
                for i, part in enumerate(parts, 1):
                    txs.append(
                        _tx(
                            rng,
                            part,
                            indicator,
                            currency,
                            _party(rng),
                            _iban(rng),
                            ref=_reference(rng),
                            archive=f"{archive}-{i}",
                            day=previous,
                        )
                    )
            details += len(txs)
            if indicator == "CRDT":
                credit_sum += amount
                credit_count += 1
            else:
                debit_sum += amount
                debit_count += 1
            out.write(
                f"<Ntry><NtryRef>{number:06d}</NtryRef>"
                f'<Amt Ccy="{currency}">{amount:.2f}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>'
                f"<Sts>BOOK</Sts><BookgDt><Dt>{day.isoformat()}</Dt></BookgDt>"
                f"<ValDt><Dt>{day.isoformat()}</Dt></ValDt><AcctSvcrRef>{archive}</AcctSvcrRef>"
                f"<BkTxCd><Domn><Cd>{domain[0]}</Cd><Fmly><Cd>{domain[1]}</Cd>"
                f"<SubFmlyCd>{domain[2]}</SubFmlyCd></Fmly></Domn>"
                f"<Prtry><Cd>{code}</Cd><Issr>FFFS</Issr></Prtry></BkTxCd>"
                f"<NtryDtls>{batch}{''.join(txs)}</NtryDtls></Ntry>\n"
            )
    closing = start_balance + credit_sum - debit_sum
    net = credit_sum - debit_sum
    with path.open("w", encoding="utf-8") as out:
        out.write(
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{NAMESPACE}">\n'
            "<BkToCstmrStmt>\n<GrpHdr>"
            f"<MsgId>BENCH-{n_entries}-{seed}</MsgId>"
            f"<CreDtTm>{day.isoformat()}T22:00:00+02:00</CreDtTm></GrpHdr>\n<Stmt>"
            f"<Id>BENCH-{n_entries}-{seed}-1</Id><LglSeqNb>1</LglSeqNb>"
            f"<CreDtTm>{day.isoformat()}T22:00:00+02:00</CreDtTm>"
            f"<FrToDt><FrDtTm>{day.isoformat()}T00:00:00+02:00</FrDtTm>"
            f"<ToDtTm>{day.isoformat()}T23:59:59+02:00</ToDtTm></FrToDt>"
            f"<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>{currency}</Ccy>"
            "<Ownr><Nm>Bench Oy</Nm></Ownr>"
            "<Svcr><FinInstnId><BIC>NDEAFIHH</BIC></FinInstnId></Svcr></Acct>\n"
        )
        out.write(_bal("OPBD", start_balance, previous, currency))
        out.write(_bal("CLBD", closing, day, currency))
        out.write(
            "<TxsSummry>"
            f"<TtlNtries><NbOfNtries>{n_entries}</NbOfNtries>"
            f"<TtlNetNtryAmt>{abs(net):.2f}</TtlNetNtryAmt>"
            f"<CdtDbtInd>{'CRDT' if net >= 0 else 'DBIT'}</CdtDbtInd></TtlNtries>"
            f"<TtlCdtNtries><NbOfNtries>{credit_count}</NbOfNtries><Sum>{credit_sum:.2f}</Sum></TtlCdtNtries>"
            f"<TtlDbtNtries><NbOfNtries>{debit_count}</NbOfNtries><Sum>{debit_sum:.2f}</Sum></TtlDbtNtries>"
            "</TxsSummry>\n"
        )
        with body.open("r", encoding="utf-8") as entries:
            for line in entries:
                out.write(line)
        out.write("</Stmt>\n</BkToCstmrStmt>\n</Document>\n")
    body.unlink()
    return {
        "path": path,
        "entries": n_entries,
        "details": details,
        "credit_sum": credit_sum,
        "debit_sum": debit_sum,
        "opening_balance": start_balance,
        "closing_balance": closing,
        "bytes": path.stat().st_size,
    }


def _rss_mb():
    """Current resident set size in MB (Linux), else None."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return None


def _parse_all(data, on_first=None):
    count = details = 0
    for _header, entry in camt.iter_entries(data, "bench.xml"):
        if not count and on_first is not None:
            on_first()
        count += 1
        details += len(entry.details)
    return count, details


def measure(path):
    """Parse ``path`` twice: once timed (and the resident memory sampled at
    the first entry and at the end), once under tracemalloc (peak of Python
    allocations up to the first entry, which includes the input checks, and
    peak while the entries stream)."""
    data = Path(path).read_bytes()
    gc.collect()
    rss = {}
    start = time.perf_counter()
    count, details = _parse_all(data, lambda: rss.setdefault("first", _rss_mb()))
    seconds = time.perf_counter() - start
    rss["end"] = _rss_mb()
    gc.collect()
    peaks = {}

    def first():
        peaks["start"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()

    tracemalloc.start()
    _parse_all(data, first)
    peaks["stream"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    growth = rss["end"] - rss["first"] if rss.get("first") is not None else None
    return {
        "entries": count,
        "details": details,
        "seconds": seconds,
        "rate": count / seconds if seconds else float("inf"),
        "start_peak_mb": peaks.get("start", 0) / 2**20,
        "stream_peak_mb": peaks["stream"] / 2**20,
        "rss_growth_mb": growth,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "file_mb": len(data) / 2**20,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="1000,10000,100000", help="comma-separated entry counts (default 1000,10000,100000)"
    )
    parser.add_argument("--keep", help="write the files here and keep them")
    opts = parser.parse_args(argv)
    sizes = [int(s) for s in opts.sizes.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(prefix="camt-bench-") as tmp:
        folder = Path(opts.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print(
            f"{'entries':>8} {'details':>8} {'file MB':>7} {'seconds':>7} {'entries/s':>9} "
            f"{'py peak start MB':>16} {'py peak stream MB':>17} {'RSS growth MB':>13} "
            f"{'max RSS MB':>10}"
        )
        for size in sizes:
            info = generate_camt053(folder / f"camt053_{size}.xml", size)
            result = measure(info["path"])
            assert result["entries"] == size, result
            growth = result["rss_growth_mb"]
            print(
                f"{result['entries']:>8} {result['details']:>8} {result['file_mb']:>7.1f} "
                f"{result['seconds']:>7.2f} {result['rate']:>9.0f} "
                f"{result['start_peak_mb']:>16.2f} {result['stream_peak_mb']:>17.2f} "
                f"{growth if growth is not None else float('nan'):>13.1f} "
                f"{result['maxrss_mb']:>10.0f}"
            )
            sys.stdout.flush()
        print(
            "py peak start: Python allocations up to the first entry (input checks copy "
            "the payload once);\npy peak stream / RSS growth: while the entries stream "
            "(flat if memory does not grow with the entries)."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
