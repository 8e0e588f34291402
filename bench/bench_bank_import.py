"""Bank statement import throughput: camt.053 files through the Link into
Odoo bank statements.

For each size, generates a camt.053 statement with that many entries
(:func:`bench.bench_camt_parse.generate_camt053`: single credit transfers
with Finnish or RF references, outgoing payments, lump sums of reference
payments itemised in the statement), imports it into a company with the
Finnish chart of accounts created for the run, where the file's payers
and payees are partners, through ``heeros.link.message._link_intake``
(detection, routing by IBAN, parsing, partner look-up, reference matching,
statement lines, statement, balances), and prints entries and statement
lines per second and the memory used. With ``--invoices N`` every N-th
incoming payment with a reference has an open customer invoice (posted
before the import, not timed), which the import reconciles.

Everything happens in one transaction that is rolled back at the end: the
database is left as it was (a commit attempted by anything during the run
fails the run instead). That transaction lasts the whole run (about a
few minutes with ``--full``) and holds its row locks meanwhile, so
prefer a database nobody else is using.

    python bench/bench_bank_import.py --config CONF --database DB [--sizes 1000,10000] [--full]
                                      [--invoices N] [--format camt|ktl]

``--format ktl`` imports KTL reference payment files of that many payments
instead (one account, one booking day: read account by account and day by
day, in batches of lines). ``--full`` adds a 100 000-entry file. ``--tracemalloc`` also measures the
peak of Python allocations (slows the run down). ``--company ID`` imports
into a new bank journal of an existing company instead of a new company:
creating a company updates the administrator's user, whose row then stays
locked until the run is rolled back, so other sessions creating companies
(tests) wait for the bench.
"""

import argparse
import gc
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from unittest.mock import patch

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

BENCH_IBAN = "FI3739390000012349"


def _rss_mb():
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return float("nan")


def _company(env, company_id=None):
    """The company and bank journal the files are imported into: a new
    company with the Finnish chart, or a new bank journal of an existing
    company (``--company``)."""
    other = env["account.journal"].search(
        [("type", "=", "bank"), ("bank_account_id.sanitized_acc_number", "=", BENCH_IBAN)]
    )
    if other:
        raise SystemExit(f"journal {other[0].display_name} already has the bench IBAN {BENCH_IBAN}")
    if company_id:
        company = env["res.company"].browse(company_id).exists()
        if not company:
            raise SystemExit(f"no company with id {company_id}")
        journal = env["account.journal"].create(
            {"name": "Link bench", "code": "LBNC", "type": "bank", "company_id": company.id}
        )
    else:
        # A new company of a country installs that country's missing
        # localisation modules, which commits; the chart is loaded below.
        thread = threading.current_thread()
        testing = getattr(thread, "testing", False)
        thread.testing = True
        try:
            company = env["res.company"].create(
                {
                    "name": f"Link bench Oy {time.time():.0f}",
                    "country_id": env.ref("base.fi").id,
                    "currency_id": env.ref("base.EUR").id,
                }
            )
        finally:
            thread.testing = testing
        env["account.chart.template"].try_loading("fi", company, install_demo=False)
        journal = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
    journal.bank_acc_number = BENCH_IBAN
    # The company knows its counterparties: the generator's payers and
    # payees are partners, found by name (a partner per line to follow).
    from bench.bench_camt_parse import COMPANIES, FIRST_NAMES, LAST_NAMES

    env["res.partner"].create(
        [{"name": f"{first} {last}", "company_id": company.id} for first in FIRST_NAMES for last in LAST_NAMES]
        + [{"name": name, "company_id": company.id, "is_company": True} for name in COMPANIES]
    )
    # The files come through a connection serving the company (as from a
    # bank): the administrator's own companies are left alone, so that the
    # run locks no row other sessions need.
    connection = env["heeros.link.connection"].create(
        {
            "name": "Link bench",
            "protocol": "local",
            "direction": "in",
            "company_id": company.id,
            "company_ids": [(6, 0, company.ids)],
            "max_file_size": 2**31 - 1,
        }
    )
    return company, journal, connection


def _open_invoices(env, company, data, share):
    """Posted customer invoices, one for every ``share``-th incoming payment
    with a reference in the file ``data``, for its amount and reference:
    those payments are reconciled by the import."""
    from odoo.addons.heeros_link_bank.formats import camt

    wanted = []
    number = 0
    for _statement, entry in camt.iter_entries(data, file_name="bench.xml"):
        for detail in entry.details if entry else ():
            if detail.creditor_reference and detail.amount and detail.amount > 0:
                number += 1
                if number % share == 0:
                    wanted.append((detail.creditor_reference, detail.amount))
    if not wanted:
        return 0
    customer = env["res.partner"].create({"name": "Bench Asiakas Oy", "company_id": company.id, "is_company": True})
    journal = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "sale")], limit=1)
    Move = env["account.move"].with_company(company).with_context(tracking_disable=True)
    for start in range(0, len(wanted), 500):
        moves = Move.create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": customer.id,
                    "journal_id": journal.id,
                    "invoice_date": "2024-02-15",
                    "payment_reference": ref,
                    "invoice_line_ids": [
                        (0, 0, {"name": "Bench", "quantity": 1, "price_unit": float(amount), "tax_ids": [(6, 0, [])]})
                    ],
                }
                for ref, amount in wanted[start : start + 500]
            ]
        )
        moves.action_post()
        env.flush_all()
        env.invalidate_all()
    return len(wanted)


def _ktl(size):
    """A KTL file of ``size`` reference payments to the bench account."""
    from tests.bank.large_files import ktl_file

    bban = BENCH_IBAN[4:].encode()
    lines = ktl_file(size * 92).split(b"\r\n")
    return b"\r\n".join(line[:1] + bban + line[15:] if line[:1] == b"3" else line for line in lines)


def run_size(env, company, connection, size, tmp, use_tracemalloc, invoice_share=0, kind="camt"):
    from bench.bench_camt_parse import generate_camt053

    if kind == "ktl":
        path = Path(tmp) / f"bench-{size}.ktl"
        data = _ktl(size)
        info = {"details": data.count(b"\r\n3")}
    else:
        path = Path(tmp) / f"bench-{size}.xml"
        info = generate_camt053(path, size, iban=BENCH_IBAN, seed=size, currency=company.currency_id.name)
        data = path.read_bytes()
        path.unlink()
    Message = env["heeros.link.message"].with_company(company)
    cr = env.cr
    env.flush_all()  # the set-up must not be pending, else the rollback below drops it
    cr.execute("SAVEPOINT bench_size")
    invoices = _open_invoices(env, company, data, invoice_share) if invoice_share and kind == "camt" else 0
    gc.collect()
    rss_before = _rss_mb()
    if use_tracemalloc:
        tracemalloc.start()
    start = time.perf_counter()
    message = Message._link_intake([(path.name, data)], connection=connection)
    env.flush_all()
    seconds = time.perf_counter() - start
    peak_py = tracemalloc.get_traced_memory()[1] / 2**20 if use_tracemalloc else None
    if use_tracemalloc:
        tracemalloc.stop()
    rss_after = _rss_mb()
    Line = env["account.bank.statement.line"]
    lines = Line.search_count([("heeros_link_bank_message_id", "=", message.id)])
    partnered = Line.search_count([("heeros_link_bank_message_id", "=", message.id), ("partner_id", "!=", False)])
    reconciled = Line.search_count(
        [("heeros_link_bank_message_id", "=", message.id), ("heeros_link_match_state", "=", "paid")]
    )
    result = {
        "size": size,
        "details": info["details"],
        "lines": lines,
        "partnered": partnered,
        "seconds": seconds,
        "invoices": invoices,
        "reconciled": reconciled,
        "state": message.state,
        "error": message.error,
        "warning": message.bank_warning,
        "file_mb": len(data) / 2**20,
        "rss_growth": rss_after - rss_before,
        "peak_py": peak_py,
    }
    del data, message
    env.invalidate_all()
    cr.execute("ROLLBACK TO SAVEPOINT bench_size")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--sizes", default="1000,10000", help="entry counts (default 1000,10000)")
    parser.add_argument("--full", action="store_true", help="add a 100 000-entry file")
    parser.add_argument("--tracemalloc", action="store_true", help="measure peak Python allocations")
    parser.add_argument(
        "--invoices",
        type=int,
        default=0,
        metavar="N",
        help="before each import, post an open customer invoice for every N-th incoming "
        "payment with a reference, so that the import reconciles those payments",
    )
    parser.add_argument(
        "--format",
        choices=("camt", "ktl"),
        default="camt",
        help="the files imported: camt.053 statements (default) or KTL reference payments",
    )
    parser.add_argument(
        "--company",
        type=int,
        help="import into a new bank journal of this existing company instead of a new "
        "company (creating a company locks the administrator's user row until the run "
        "ends, which makes other sessions creating companies wait)",
    )
    opts = parser.parse_args(argv)
    sizes = [int(s) for s in opts.sizes.split(",") if s.strip()]
    if opts.full and 100000 not in sizes:
        sizes.append(100000)

    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", opts.config, "-d", opts.database, "--log-level=warn"])
    import odoo.addons

    if str(REPO) not in odoo.addons.__path__:
        odoo.addons.__path__.append(str(REPO))
    registry = Registry(opts.database)
    results = []
    with registry.cursor() as cr, tempfile.TemporaryDirectory(prefix="link-bench-") as tmp:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        if "heeros.link.bank.import" not in env:
            raise SystemExit(f"heeros_link_bank is not installed in {opts.database}")

        def refuse_commit():
            raise RuntimeError("the bench must not commit")

        # Nothing of the run may become durable: the Link's own commits
        # between messages are switched off and any other commit fails.
        cr.commit = refuse_commit
        try:
            start = time.perf_counter()
            company, journal, connection = _company(env, opts.company)
            if opts.format == "ktl":
                # KTL names the account in machine form: the journal has its IBAN
                from odoo.addons.heeros_link_bank.formats.charset import fi_iban

                journal.bank_acc_number = fi_iban(BENCH_IBAN[4:])
            setup = time.perf_counter() - start
            env["ir.config_parameter"].set_param("heeros_link.max_file_size", str(2**31 - 1))
            MessageClass = type(env["heeros.link.message"])
            with patch.object(MessageClass, "_link_commit", lambda model: None):
                for size in sizes:
                    results.append(
                        run_size(env, company, connection, size, tmp, opts.tracemalloc, opts.invoices, opts.format)
                    )
                    res = results[-1]
                    print(f"  {size} entries: {res['seconds']:.1f} s, {res['state']}", file=sys.stderr, flush=True)
        finally:
            cr.rollback()
            del cr.commit

    print(
        f"set-up ({'bank journal of company %s' % opts.company if opts.company else 'new company, Finnish chart'}): "
        f"{setup:.1f} s; database rolled back"
    )
    header = (
        f"{'entries':>8}{'lines':>9}{'partner':>9}{'paid':>7}{'file MB':>9}{'seconds':>9}"
        f"{'entries/s':>11}{'lines/s':>9}{'RSS +MB':>9}"
    )
    if opts.tracemalloc:
        header += f"{'py peak MB':>12}"
    print(header + "  state")
    ok = True
    for res in results:
        row = (
            f"{res['size']:>8}{res['lines']:>9}{res['partnered']:>9}{res['reconciled']:>7}"
            f"{res['file_mb']:>9.1f}{res['seconds']:>9.1f}{res['size'] / res['seconds']:>11.0f}"
            f"{res['lines'] / res['seconds']:>9.0f}"
            f"{res['rss_growth']:>9.0f}"
        )
        if opts.tracemalloc:
            row += f"{res['peak_py']:>12.0f}"
        print(row + f"  {res['state']}" + (f": {res['error']}" if res["error"] else ""))
        ok = ok and res["state"] == "processed"
    print(f"peak RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
