"""Payment batch throughput: a batch built from N posted vendor bills.

Creates a company with the Finnish chart of accounts, suppliers with
Finnish bank accounts and N posted vendor bills with Finnish references
(set-up, not timed), then times each step a bookkeeper's batch goes
through: the wizard's selection of the due bills, the batch and its lines,
the approval (every line checked: IBAN, BIC, reference, address), and the
sending: pain.001 built and validated against its schema, Odoo payments
created in the outstanding payments account and reconciled with the bills,
the file queued as a Link message. Prints bills per second for each step
and for the whole, and the process's memory.

Everything happens in one transaction that is rolled back at the end: the
database is left as it was (a commit attempted during the run fails it).
Prefer a database nobody else is using.

    python bench/bench_payment_batch.py --config CONF --database DB [--bills 10000] [--tracemalloc]
"""

import argparse
import gc
import resource
import sys
import time
import tracemalloc
from datetime import date
from pathlib import Path
from unittest.mock import patch

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

BENCH_IBAN = "FI4819503000000010"
SUPPLIERS = 200


def _rss_mb():
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return float("nan")


def _iban(number):
    """A valid Finnish IBAN for bank account ``number``."""
    from stdnum import iban

    bban = f"123456{number:08d}"
    check = 98 - int(f"{bban}151800") % 97
    value = f"FI{check:02d}{bban}"
    return iban.validate(value)


def _setup(env, bills):
    import threading

    from odoo.addons.heeros_link_base.formats import reference

    thread = threading.current_thread()
    testing = getattr(thread, "testing", False)
    thread.testing = True  # creating a company of a new country would install (and commit) modules
    try:
        company = env["res.company"].create(
            {
                "name": f"Link payment bench Oy {time.time():.0f}",
                "country_id": env.ref("base.fi").id,
                "currency_id": env.ref("base.EUR").id,
                "city": "Helsinki",
                "company_registry": "1234567-1",
            }
        )
    finally:
        thread.testing = testing
    env["account.chart.template"].try_loading("fi", company, install_demo=False)
    env = env(context=dict(env.context, allowed_company_ids=company.ids))
    journal = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
    journal.bank_acc_number = BENCH_IBAN
    journal.bank_account_id.bank_id = env["res.bank"].create({"name": "Bench bank", "bic": "NDEAFIHH"})
    connection = env["heeros.link.connection"].create(
        {
            "name": "Link payment bench",
            "protocol": "local",
            "direction": "out",
            "company_id": company.id,
            "company_ids": [(6, 0, company.ids)],
        }
    )
    bank = env["res.bank"].create({"name": "Toimittajan pankki", "bic": "OKOYFIHH"})
    partners = env["res.partner"].create(
        [
            {
                "name": f"Toimittaja {n} Oy",
                "is_company": True,
                "company_id": company.id,
                "country_id": env.ref("base.fi").id,
                "city": "Tampere",
                "bank_ids": [(0, 0, {"acc_number": _iban(n + 1), "bank_id": bank.id, "allow_out_payment": True})],
            }
            for n in range(SUPPLIERS)
        ]
    )
    Move = env["account.move"].with_context(tracking_disable=True)
    for start in range(0, bills, 500):
        moves = Move.create(
            [
                {
                    "move_type": "in_invoice",
                    "company_id": company.id,
                    "partner_id": partners[n % SUPPLIERS].id,
                    "invoice_date": date(2026, 11, 1),
                    "invoice_date_due": date(2026, 12, 1),
                    "payment_reference": reference.fi_make(str(10000 + n)),
                    "ref": f"BENCH-{n}",
                    "invoice_line_ids": [
                        (0, 0, {"name": "Bench", "quantity": 1, "price_unit": 10 + n % 1000, "tax_ids": [(6, 0, [])]})
                    ],
                }
                for n in range(start, min(bills, start + 500))
            ]
        )
        moves.action_post()
        env.flush_all()
        env.invalidate_all()
        print(f"  {min(bills, start + 500)} bills posted", file=sys.stderr, flush=True)
    return env, company, journal, connection


def run(env, company, journal, connection, bills):
    steps = []

    def step(name, function):
        gc.collect()
        start = time.perf_counter()
        result = function()
        env.flush_all()
        steps.append((name, time.perf_counter() - start))
        print(f"  {name}: {steps[-1][1]:.1f} s", file=sys.stderr, flush=True)
        return result

    wizard = env["heeros.link.payment.batch.wizard"].create(
        {
            "company_id": company.id,
            "journal_id": journal.id,
            "due_date_to": date(2026, 12, 31),
            "execution_date": date(2026, 12, 7),
        }
    )
    rss_before = _rss_mb()
    moves = step("selection", wizard._heeros_link_bills)
    batch = step(
        "batch and lines", lambda: env["heeros.link.payment.batch"].browse(wizard.action_create_batch()["res_id"])
    )
    step("approval (line checks)", batch.action_approve)
    # the steps of sending (``_heeros_link_send``), timed one by one
    document = step("payment file: document", batch._heeros_link_build_document)
    data = step("payment file: build and XSD", lambda: batch._heeros_link_build_file(document))
    step("Odoo payments, reconciled", batch._heeros_link_create_payments)
    message = step(
        "file queued as Link message",
        lambda: batch._heeros_link_queue_message(data, batch._heeros_link_file_name(document)),
    )
    total = sum(seconds for _name, seconds in steps)
    paid = env["account.move"].search_count([("id", "in", moves.ids), ("payment_state", "=", "in_payment")])
    return {
        "steps": steps,
        "total": total,
        "selected": len(moves),
        "lines": batch.line_count,
        "paid": paid,
        "file_mb": message.size / 2**20,
        "state": message.state,
        "rss_growth": _rss_mb() - rss_before,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--bills", type=int, default=10000, help="vendor bills in the batch (default 10 000)")
    parser.add_argument("--tracemalloc", action="store_true", help="measure peak Python allocations")
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
        if "heeros.link.payment.batch" not in env:
            raise SystemExit(f"heeros_link_bank is not installed in {opts.database}")

        def refuse_commit():
            raise RuntimeError("the bench must not commit")

        cr.commit = refuse_commit
        try:
            start = time.perf_counter()
            env, company, journal, connection = _setup(env, opts.bills)
            setup = time.perf_counter() - start
            MessageClass = type(env["heeros.link.message"])
            if opts.tracemalloc:
                tracemalloc.start()
            with patch.object(MessageClass, "_link_commit", lambda model: None):
                result = run(env, company, journal, connection, opts.bills)
            peak_py = tracemalloc.get_traced_memory()[1] / 2**20 if opts.tracemalloc else None
        finally:
            cr.rollback()
            del cr.commit

    print(f"set-up (new company, Finnish chart, {opts.bills} posted bills): {setup:.1f} s; database rolled back")
    print(f"{'step':<34}{'seconds':>9}{'bills/s':>10}")
    for name, seconds in result["steps"]:
        print(f"{name:<34}{seconds:>9.1f}{result['selected'] / seconds if seconds else 0:>10.0f}")
    print(f"{'whole batch':<34}{result['total']:>9.1f}{result['selected'] / result['total']:>10.0f}")
    print(
        f"bills selected {result['selected']}, payments {result['lines']}, bills in payment {result['paid']}, "
        f"file {result['file_mb']:.1f} MB, message {result['state']}"
    )
    print(
        f"memory: RSS +{result['rss_growth']:.0f} MB during the batch, peak RSS of the process "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
        + (f", peak Python allocations {peak_py:.0f} MB" if peak_py is not None else "")
    )
    ok = result["paid"] == result["selected"] == opts.bills and result["state"] == "queued"
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
