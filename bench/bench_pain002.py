"""Payment status reports: parse and apply one pain.002 for a batch of N
payments.

Creates (not timed) a company with the Finnish chart, a bank journal and a
sent payment batch of N payments in blocks of at most 1 000 payment
information ids, then generates a pain.002.001.03 report on it: every
transaction listed by end-to-end id, about one in a hundred rejected with
a reason code and the bank's text, the others settled (ACSC). The timed
part is what the Link does with the report from intake to the end:
detection, parsing, matching the batch, every payment's state, the batch's
state and the activity for the rejected payments. Prints the seconds, the
payments per second and the peak memory (Python allocations and the
process's RSS growth).

Everything happens in one transaction that is rolled back at the end: the
database is left as it was.

    python bench/bench_pain002.py --config CONF --database DB [--payments 10000]
"""

import argparse
import gc
import random
import resource
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from unittest.mock import patch

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

BENCH_IBAN = "FI3739390000012349"
CREDITOR_IBAN = "FI2112345600000785"
BLOCK = 1000
REASONS = [("AC01", "Tilinumero virheellinen"), ("AM04", "Kate ei riitä"), ("RR03", "Saajan osoite puuttuu")]


def _rss_mb():
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return float("nan")


def generate_pain002(message_id, lines, seed=1):
    """A pain.002.001.03 report (bytes) on ``lines`` (``(payment info id,
    end-to-end id, amount)``): about 1 % rejected. Returns ``(data,
    rejected count)``."""
    rng = random.Random(seed)
    blocks = {}
    for info_id, e2e, amount in lines:
        blocks.setdefault(info_id, []).append((e2e, amount))
    rejected = 0
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>'
        "<GrpHdr><MsgId>BENCH-STS-1</MsgId><CreDtTm>2026-03-04T12:00:00+02:00</CreDtTm></GrpHdr>"
        f"<OrgnlGrpInfAndSts><OrgnlMsgId>{message_id}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>"
        f"<OrgnlNbOfTxs>{len(lines)}</OrgnlNbOfTxs><GrpSts>PART</GrpSts></OrgnlGrpInfAndSts>"
    ]
    for info_id, txs in blocks.items():
        parts.append(
            f"<OrgnlPmtInfAndSts><OrgnlPmtInfId>{info_id}</OrgnlPmtInfId>"
            f"<OrgnlNbOfTxs>{len(txs)}</OrgnlNbOfTxs><PmtInfSts>PART</PmtInfSts>"
        )
        for e2e, amount in txs:
            if rng.random() < 0.01:
                rejected += 1
                code, text = rng.choice(REASONS)
                status = (
                    f"<TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>{code}</Cd></Rsn><AddtlInf>{text}</AddtlInf></StsRsnInf>"
                )
            else:
                status = "<TxSts>ACSC</TxSts>"
            parts.append(
                f"<TxInfAndSts><OrgnlEndToEndId>{e2e}</OrgnlEndToEndId>{status}<OrgnlTxRef><Amt>"
                f'<InstdAmt Ccy="EUR">{amount:.2f}</InstdAmt></Amt></OrgnlTxRef></TxInfAndSts>'
            )
        parts.append("</OrgnlPmtInfAndSts>")
    parts.append("</CstmrPmtStsRpt></Document>")
    return "".join(parts).encode("utf-8"), rejected


def _setup(env, size):
    """A company, its bank journal and connection, and a sent batch of
    ``size`` payments (created in bulk, not timed)."""
    thread = threading.current_thread()
    testing = getattr(thread, "testing", False)
    thread.testing = True  # a new company of a country would install its localisation and commit
    try:
        company = env["res.company"].create(
            {
                "name": f"Link pain.002 bench Oy {time.time():.0f}",
                "country_id": env.ref("base.fi").id,
                "currency_id": env.ref("base.EUR").id,
            }
        )
    finally:
        thread.testing = testing
    env["account.chart.template"].try_loading("fi", company, install_demo=False)
    journal = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
    journal.bank_acc_number = BENCH_IBAN
    connection = env["heeros.link.connection"].create(
        {
            "name": "Link bench",
            "protocol": "local",
            "direction": "in",
            "company_id": company.id,
            "company_ids": [(6, 0, company.ids)],
        }
    )
    env = env(context=dict(env.context, allowed_company_ids=company.ids))
    batch = (
        env["heeros.link.payment.batch"]
        .with_company(company)
        .create({"journal_id": journal.id, "execution_date": "2026-03-04"})
    )
    Line = env["heeros.link.payment.line"]
    for start in range(0, size, 2000):
        Line.create(
            [
                {
                    "batch_id": batch.id,
                    "creditor_name": f"Saaja {n}",
                    "iban": CREDITOR_IBAN,
                    "amount": 10 + n % 500,
                    "currency_id": company.currency_id.id,
                    "message": f"Lasku {n}",
                }
                for n in range(start, min(size, start + 2000))
            ]
        )
        env.flush_all()
        env.invalidate_all()
    env.flush_all()
    # as sending leaves it: the file's ids on batch and lines, everything sent
    message_id = f"BENCH-{batch.id}"
    env.cr.execute(
        """
        WITH numbered AS (SELECT id, (row_number() OVER (ORDER BY id) - 1) / %s AS block
                            FROM heeros_link_payment_line WHERE batch_id = %s)
        UPDATE heeros_link_payment_line l SET state = 'sent', payment_info_id = %s || '-' || n.block
          FROM numbered n WHERE n.id = l.id""",
        [BLOCK, batch.id, message_id],
    )
    env.cr.execute(
        "UPDATE heeros_link_payment_batch SET state = 'sent', pain_message_id = %s, "
        "sent_at = now() at time zone 'UTC' WHERE id = %s",
        [message_id, batch.id],
    )
    env.invalidate_all()
    env.cr.execute(
        "SELECT payment_info_id, end_to_end_id, amount FROM heeros_link_payment_line WHERE batch_id = %s ORDER BY id",
        [batch.id],
    )
    lines = env.cr.fetchall()
    return company, connection, batch, message_id, lines


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--payments", type=int, default=10000, help="payments in the batch (default 10 000)")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also measure the peak of Python allocations (slows the run down)"
    )
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the timed part to FILE")
    opts = parser.parse_args(argv)

    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", opts.config, "-d", opts.database, "--log-level=warn"])
    import odoo.addons

    if str(REPO) not in odoo.addons.__path__:
        odoo.addons.__path__.append(str(REPO))
    registry = Registry(opts.database)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        if "heeros.link.payment.feedback" not in env:
            raise SystemExit(f"heeros_link_bank with payment feedback is not installed in {opts.database}")

        def refuse_commit():
            raise RuntimeError("the bench must not commit")

        cr.commit = refuse_commit
        try:
            start = time.perf_counter()
            company, connection, batch, message_id, lines = _setup(env, opts.payments)
            data, rejected = generate_pain002(message_id, lines)
            setup = time.perf_counter() - start
            env.flush_all()
            env.invalidate_all()
            MessageClass = type(env["heeros.link.message"])
            Message = env["heeros.link.message"].with_company(company)
            gc.collect()
            rss_before = _rss_mb()
            if opts.tracemalloc:
                tracemalloc.start()
            profiler = None
            if opts.profile:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            with patch.object(MessageClass, "_link_commit", lambda model: None):
                start = time.perf_counter()
                message = Message._link_intake([("pain002-bench.xml", data)], connection=connection)
                env.flush_all()
                seconds = time.perf_counter() - start
            if profiler:
                profiler.disable()
                profiler.dump_stats(opts.profile)
            peak_py = tracemalloc.get_traced_memory()[1] / 2**20 if opts.tracemalloc else None
            tracemalloc.stop()
            rss_growth = _rss_mb() - rss_before
            counts = dict(
                env["heeros.link.payment.line"]._read_group([("batch_id", "=", batch.id)], ["state"], ["__count"])
            )
            state, error, batch_state = message.state, message.error, batch.state
        finally:
            cr.rollback()
            del cr.commit

    print(
        f"set-up (new company, batch of {opts.payments} payments, report {len(data) / 2**20:.1f} MB): "
        f"{setup:.1f} s; database rolled back"
    )
    peak = f"{peak_py:>12.0f}" if peak_py is not None else f"{'-':>12}"
    print(
        f"{'payments':>9}{'rejected':>10}{'seconds':>9}{'payments/s':>12}{'py peak MB':>12}{'RSS +MB':>9}"
        "  message / batch"
    )
    print(
        f"{opts.payments:>9}{rejected:>10}{seconds:>9.2f}{opts.payments / seconds:>12.0f}{peak}"
        f"{rss_growth:>9.0f}  {state} / {batch_state}" + (f": {error}" if error else "")
    )
    print("line states: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    print(f"peak RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    ok = state == "processed" and counts.get("rejected", 0) == rejected
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
