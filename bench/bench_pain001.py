"""Throughput and memory of the payment formats.

Builds a pain.001.001.09 (or .03) file of N payments (default 10 000) in
several payment informations (SEPA with Finnish and RF references, urgent,
salaries, foreign payments), validates it against the official schema, reads
it back, and parses the bank's pain.002 status report answering it (every
tenth payment rejected with a reason). For each step it prints payments
per second, the peak of Python allocations (tracemalloc, in a second run
of the step) and the growth of the process's peak resident memory
(resource.getrusage, which also sees lxml's own C allocations; a step that
stays below an earlier peak shows +0).

    python bench/bench_pain001.py [-n 10000] [--version 09] [--keep DIR]
"""

import argparse
import gc
import random
import resource
import sys
import time
import tracemalloc
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

import odoo.addons  # noqa: E402

if str(REPO) not in odoo.addons.__path__:
    odoo.addons.__path__.append(str(REPO))

from odoo.addons.heeros_link_bank.formats import pain001, pain002  # noqa: E402
from odoo.addons.heeros_link_bank.formats.charset import fi_iban  # noqa: E402
from odoo.addons.heeros_link_base.formats import reference  # noqa: E402

NAMES = ["Matti Virtanen", "Maija Korhonen", "Åsa Lindström", "Örjan Öberg", "Sähkö Oy", "Tili & Talous Oy"]
DEBTOR = pain001.Party("Heeros Testi Oy", iban="FI4250001510000023", bic="OKOYFIHH", org_id="SERVICEID01")


def generate_document(count, version="09", seed=1):
    """A :class:`pain001.Document` of ``count`` payments, 500 per payment information."""
    rng = random.Random(seed)
    infos = []
    batch = []
    kinds = ("sepa", "urgent", "salary", "foreign")
    for number in range(count):
        kind = kinds[(number // 500) % len(kinds)]
        amount = Decimal(rng.randrange(100, 500000)) / 100
        e2e = f"E2E-{number:08d}"
        if kind == "foreign":
            creditor = pain001.Party(
                "Supplier Inc",
                other_account=str(rng.randrange(10**9, 10**10)),
                bic="CHASUS33XXX",
                address=pain001.Address(town="New York", country="US", lines=("Main St 5",)),
            )
            payment = pain001.Payment(e2e, amount, "USD", creditor, message=f"Invoice {number}")
        else:
            iban = fi_iban("".join(str(rng.randrange(10)) for _ in range(14)).replace("0", "1", 1))
            creditor = pain001.Party(
                rng.choice(NAMES),
                iban=iban,
                address=pain001.Address(
                    street="Katu", building=str(number % 99 + 1), postcode="00100", town="Helsinki", country="FI"
                ),
            )
            if kind == "salary":
                payment = pain001.Payment(e2e, amount, "EUR", creditor, message="Palkka", purpose="SALA")
            else:
                national = reference.fi_make(str(rng.randrange(1000, 10**9)))
                ref = reference.rf_make(national) if rng.random() < 0.3 else national
                payment = pain001.Payment(e2e, amount, "EUR", creditor, reference=ref)
        batch.append(payment)
        if len(batch) == 500 or number == count - 1:
            infos.append(
                pain001.PaymentInfo(
                    f"PMTINF-{len(infos) + 1}",
                    date(2026, 3, 4),
                    DEBTOR,
                    batch,
                    service_level={"sepa": "SEPA", "urgent": "URGP", "salary": "SEPA", "foreign": None}[kind],
                    category_purpose="SALA" if kind == "salary" else None,
                )
            )
            batch = []
    return pain001.Document("BENCH-MSG-1", datetime(2026, 3, 2, 9, 0), pain001.Party("Heeros Testi Oy"), infos, version)


def generate_status_report(doc):
    """The pain.002.001.10 a bank would send for ``doc``: every tenth payment rejected."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"><CstmrPmtStsRpt>'
        "<GrpHdr><MsgId>STATUS-1</MsgId><CreDtTm>2026-03-04T10:00:00</CreDtTm></GrpHdr>"
        f"<OrgnlGrpInfAndSts><OrgnlMsgId>{doc.message_id}</OrgnlMsgId>"
        "<OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId><GrpSts>PART</GrpSts></OrgnlGrpInfAndSts>"
    ]
    number = 0
    for info in doc.infos:
        parts.append(
            f"<OrgnlPmtInfAndSts><OrgnlPmtInfId>{info.payment_info_id}</OrgnlPmtInfId><PmtInfSts>PART</PmtInfSts>"
        )
        for payment in info.payments:
            rejected = number % 10 == 0
            number += 1
            parts.append(
                f"<TxInfAndSts><OrgnlEndToEndId>{payment.end_to_end_id}</OrgnlEndToEndId>"
                f"<TxSts>{'RJCT' if rejected else 'ACSC'}</TxSts>"
                + (
                    "<StsRsnInf><Rsn><Cd>AM04</Cd></Rsn><AddtlInf>Insufficient funds</AddtlInf></StsRsnInf>"
                    if rejected
                    else ""
                )
                + f'<OrgnlTxRef><Amt><InstdAmt Ccy="{payment.currency}">{payment.amount}</InstdAmt></Amt>'
                "</OrgnlTxRef></TxInfAndSts>"
            )
        parts.append("</OrgnlPmtInfAndSts>")
    parts.append("</CstmrPmtStsRpt></Document>")
    return "".join(parts).encode()


def _measure(label, count, function):
    """Run ``function`` twice: once timed (and its growth of the resident
    memory measured), once under tracemalloc for the peak of Python
    allocations (tracing slows allocation-heavy code down several times, so
    it is kept out of the timed run)."""
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    result = function()
    elapsed = time.perf_counter() - start
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    gc.collect()
    tracemalloc.start()
    function()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{label:<28} {count:>8} payments {elapsed:8.3f} s {count / elapsed:>10.0f} payments/s "
        f"peak Python {peak / 2**20:7.1f} MiB  max RSS +{(rss_after - rss_before) / 1024:7.1f} MiB"
    )
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--payments", type=int, default=10000)
    parser.add_argument("--version", choices=pain001.VERSIONS, default="09")
    parser.add_argument("--keep", type=Path, help="folder to write the generated files to")
    args = parser.parse_args(argv)
    count = args.payments

    pain001.schema(args.version)  # the schema is loaded once per process; not part of the rates
    doc = generate_document(count, args.version)
    data = _measure("build pain.001", count, lambda: pain001.build(doc))
    print(f"  {len(data) / 2**20:.1f} MiB, {len(doc.infos)} payment informations")
    _measure("validate (XSD)", count, lambda: pain001.validate(data))
    back = _measure("read pain.001", count, lambda: pain001.read(data))
    assert len(back.payments) == count
    status = generate_status_report(doc)
    report = _measure("parse pain.002", count, lambda: pain002.parse(status))
    assert len(report.transactions) == count
    print(f"  {len(status) / 2**20:.1f} MiB, {len(report.rejected)} rejected")

    def together():
        built = pain001.build(doc)
        pain001.validate(built)
        return pain002.parse(status)

    _measure("build+validate+pain.002", count, together)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        (args.keep / f"pain001_{count}.xml").write_bytes(data)
        (args.keep / f"pain002_{count}.xml").write_bytes(status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
