"""Inbound e-invoice throughput: files into draft vendor bills.

Creates a Finnish seller with N posted invoices (the set-up of
``bench_einvoice.py``), writes each as Finvoice 3.0 and as Peppol BIS 3,
and a receiving company whose own e-invoice addresses are the customers'.
Then measures, each from a cold ORM cache:

(a) the Link's import of the N Finvoice files (intake, detection, reading,
    routing, supplier, bill, attachment, totals check);
(a2) the same N Finvoices as one file, as a bank's e-invoice channel
    delivers them (the bills of one file are created together);
(b) the same for the N Peppol files;
(c) Odoo's own UBL import of the same Peppol files
    (``account.journal._create_document_from_attachment``).

It prints bills per second, the growth of peak resident memory of each
step, and how many bills match their invoice's totals and VAT. The Link
commits each message as it processes it, as in production: run the script
on a database of its own (a copy), which it leaves with the bench's data.

    python bench/bench_einvoice_import.py --config CONF --database DB [--count 1000]
"""

import argparse
import cProfile
import io
import pstats
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.bench_bank_import import _backend_cpu_seconds, _cpu_seconds  # noqa: E402


def _peak_kb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


def measure(label, func, count, results, backend=None, profile=None):
    """Run ``func``; append (label, seconds, count, peak KB, CPU s, PostgreSQL
    CPU s) to ``results`` and, when ``profile`` is a list, the top of its
    cProfile."""
    _reset_peak()
    before = _peak_kb()
    profiler = cProfile.Profile() if profile is not None else None
    db_start = _backend_cpu_seconds(backend) if backend else None
    cpu_start = _cpu_seconds()
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    value = func()
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu_start
    db_end = _backend_cpu_seconds(backend) if backend else None
    db_cpu = db_end - db_start if db_start is not None and db_end is not None else None
    results.append((label, seconds, count, max(_peak_kb() - before, 0), cpu, db_cpu))
    if profiler:
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream)
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(15)
        profile.append(f"--- {label}\n{stream.getvalue()}")
    return value


def matches(moves, bills):
    """How many bills have their invoice's untaxed amount, VAT and total."""
    by_ref = {bill.ref: bill for bill in bills}
    good = 0
    for move in moves:
        bill = by_ref.get(move.name)
        if bill and all(abs(bill[f] - move[f]) < 0.005 for f in ("amount_untaxed", "amount_tax", "amount_total")):
            good += 1
    return good


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of each step")
    opts = parser.parse_args()

    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", opts.config, "-d", opts.database, "--log-level=warn"])
    from bench.bench_einvoice import setup

    registry = Registry(opts.database)
    results = []
    profile = [] if opts.profile else None
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        cr.execute("SELECT pg_backend_pid()")
        backend = cr.fetchone()[0]
        start = time.perf_counter()
        env, company, moves = setup(env, opts.count)
        timestamp = datetime.now(UTC).replace(microsecond=0)
        finvoices = [(d["file_name"], d["data"]) for d in moves._heeros_link_finvoice_documents(timestamp).values()]
        builder = env["account.edi.xml.ubl_bis3"]
        peppols = [(f"peppol_{m.name.replace('/', '_')}.xml", builder._export_invoice(m)[0]) for m in moves]
        receiver = env["res.company"].create(
            {"name": "Bench Ostaja Oy", "country_id": env.ref("base.fi").id, "currency_id": env.ref("base.EUR").id}
        )
        env = env(context=dict(env.context, allowed_company_ids=[receiver.id, company.id]))
        env["account.chart.template"].try_loading("fi", receiver, install_demo=False)
        receiver = env["res.company"].browse(receiver.id)
        for partner in moves.partner_id:
            # the receiving company's books hold every customer's invoices (a bureau's client)
            address = partner.heeros_link_einvoice_address_id
            env["heeros.link.einvoice.address"].create(
                {
                    "partner_id": receiver.partner_id.id,
                    "address": address.address,
                    "operator_id": address.operator_id.id,
                    "delivery": address.delivery,
                }
            )
        print(f"set-up: {len(moves)} invoices as Finvoice and Peppol in {time.perf_counter() - start:.1f} s")
        Message = env["heeros.link.message"].with_company(receiver)
        Move = env["account.move"]

        env.invalidate_all()
        messages = measure(
            "(a) Link: Finvoice -> draft bills",
            lambda: Message._link_intake(finvoices, company=receiver, process=False)._link_process(),
            len(finvoices),
            results,
            backend,
            profile,
        )
        bills = Move.search([("heeros_link_in_message_id", "in", messages.ids)])
        ok_a = (len(bills), matches(moves, bills), sum(m.state == "error" for m in messages))
        bills.unlink()

        env.invalidate_all()
        batch = [("finvoice_all.xml", b"\n".join(data for _name, data in finvoices))]
        messages = measure(
            "(a2) Link: one file of all Finvoices",
            lambda: Message._link_intake(batch, company=receiver, process=False)._link_process(),
            len(finvoices),
            results,
            backend,
            profile,
        )
        bills = Move.search([("heeros_link_in_message_id", "in", messages.ids)])
        ok_a2 = (len(bills), matches(moves, bills), sum(m.state == "error" for m in messages))
        bills.unlink()

        env.invalidate_all()
        messages = measure(
            "(b) Link: Peppol -> draft bills",
            lambda: Message._link_intake(peppols, company=receiver, process=False)._link_process(),
            len(peppols),
            results,
            backend,
            profile,
        )
        bills = Move.search([("heeros_link_in_message_id", "in", messages.ids)])
        ok_b = (len(bills), matches(moves, bills), sum(m.state == "error" for m in messages))
        bills.unlink()

        journal = (
            env["account.journal"]
            .search([("company_id", "=", receiver.id), ("type", "=", "purchase")], limit=1)
            .with_company(receiver)
        )
        attachments = env["ir.attachment"].create(
            [{"name": name, "raw": data, "mimetype": "application/xml"} for name, data in peppols]
        )
        env.invalidate_all()

        def odoo_import():
            made = Move
            for attachment in attachments:
                made |= journal.with_context(default_move_type="in_invoice")._create_document_from_attachment(
                    attachment.ids
                )
            return made

        odoo_bills = measure("(c) Odoo: UBL -> draft bills", odoo_import, len(peppols), results, backend, profile)
        ok_c = (len(odoo_bills), matches(moves, odoo_bills), 0)
        cr.rollback()

    for text in profile or ():
        print(text)
    # the machine may be shared: CPU seconds (this process and its PostgreSQL
    # backend) compare the steps more fairly than the elapsed time
    print(
        f"{'step':<38} {'files':>6} {'seconds':>8} {'bills/s':>8} {'CPU s':>7} {'PG CPU s':>8} "
        f"{'per CPU s':>9} {'peak MB':>8}"
    )
    for label, seconds, count, peak, cpu, db_cpu in results:
        total = cpu + (db_cpu or 0.0)
        db_text = f"{db_cpu:>8.1f}" if db_cpu is not None else f"{'-':>8}"
        print(
            f"{label:<38} {count:>6} {seconds:>8.2f} {count / seconds:>8.1f} {cpu:>7.1f} {db_text} "
            f"{count / total:>9.1f} {peak / 1024:>8.1f}"
        )
    for label, (made, good, errors) in zip(
        ("Finvoice", "Finvoice, one file", "Peppol (Link)", "Peppol (Odoo)"), (ok_a, ok_a2, ok_b, ok_c)
    ):
        print(f"{label}: {made} bills, {good} with the invoice's totals and VAT, {errors} in error")
    if len(results) == 4:
        link, own = results[2], results[3]
        link_cpu, own_cpu = link[4] + (link[5] or 0.0), own[4] + (own[5] or 0.0)
        print(
            f"Link Peppol import vs Odoo's: {own[1] / link[1]:.1f}x the speed (elapsed), "
            f"{own_cpu / link_cpu:.1f}x per CPU second"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
