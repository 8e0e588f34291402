"""E-invoice operators: sending and receiving through the Maventa test server.

Creates the Finnish seller and N posted invoices of ``bench_einvoice.py``,
starts the Maventa test server of the test suite (tests/operators.py: OAuth2
tokens, the official Finvoice XSD on every invoice, client ids) on
127.0.0.1 and a Maventa connection to it, then measures:

(a) sending: the N Finvoice files queued as Link messages and sent by the
    Link's send path (one HTTP call per invoice, each message committed);
(b) receiving: the same N files waiting at the operator, listed page by
    page, downloaded with an attachment each and stored as messages
    (``_link_fetch``, each message committed), then optionally
    (``--process``) read into draft vendor bills.

It prints documents per second, the growth of peak resident memory, and
where the time goes: in the HTTP calls seen from the Link (client side), in
the server's schema validation, and the rest (the Link's ORM work and
commits). Run it on a database of its own (a copy): it commits.

    python bench/bench_operators.py --config CONF --database DB [--count 1000] [--process] [--profile]
"""

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


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


class Clock:
    """Adds up the time spent in wrapped functions."""

    def __init__(self):
        self.seconds = {}

    def wrap(self, owner, name, label):
        original = getattr(owner, name)
        clock = self

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                clock.seconds[label] = clock.seconds.get(label, 0.0) + time.perf_counter() - start

        setattr(owner, name, timed)
        return original

    def take(self):
        taken, self.seconds = self.seconds, {}
        return taken


def report(label, seconds, count, peak, parts):
    rate = count / seconds if seconds else 0
    print(f"{label}: {count} documents in {seconds:.1f} s = {rate:.1f} docs/s, peak memory +{peak / 1024:.0f} MB")
    http = parts.get("http", 0.0)
    schema = parts.get("schema", 0.0)
    print(
        f"    HTTP calls (client side) {http:.1f} s ({100 * http / seconds:.0f} %), of which the server's "
        f"schema validation {schema:.1f} s; the Link's own work {seconds - http:.1f} s "
        f"({100 * (seconds - http) / seconds:.0f} %)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--process", action="store_true", help="also read the received files into bills")
    parser.add_argument("--profile", action="store_true", help="print where the Link's own time goes (cProfile)")
    opts = parser.parse_args()

    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", opts.config, "-d", opts.database, "--log-level=warn"])
    from bench.bench_einvoice import setup
    from odoo import Command
    from odoo.addons.heeros_link_base.channels import maventa as maventa_channel
    from odoo.addons.heeros_link_base.channels import operator as operator_channel
    from tests import operators

    clock = Clock()
    clock.wrap(operator_channel.OperatorChannel, "_request", "http")
    clock.wrap(operators, "check_document", "schema")

    registry = Registry(opts.database)
    with operators.MaventaServer() as server, registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        env["ir.config_parameter"].set_param("heeros_link.job_workers", "off")
        start = time.perf_counter()
        env, company, moves = setup(env, opts.count)
        server.add_account("bench-company-uuid", "bench-user-key", "bench-vendor-key")
        endpoint = env["heeros.link.operator.endpoint"].create(
            {"name": "Maventa (bench)", "protocol": "maventa", "url": server.url}
        )
        connection = env["heeros.link.connection"].create(
            {
                "name": "Maventa (bench)",
                "protocol": "maventa",
                "direction": "both",
                "operator_endpoint_id": endpoint.id,
                "username": "bench-company-uuid",
                "password": "bench-user-key",
                "vendor_api_key": "bench-vendor-key",
                "company_id": company.id,
                "company_ids": [Command.set(company.ids)],
            }
        )
        # the receiving company keeps the books of every customer (a bureau's client)
        receiver = env["res.company"].create(
            {"name": "Bench Ostaja Oy", "country_id": env.ref("base.fi").id, "currency_id": env.ref("base.EUR").id}
        )
        env = env(context=dict(env.context, allowed_company_ids=[company.id, receiver.id]))
        env["account.chart.template"].try_loading("fi", receiver, install_demo=False)
        for partner in moves.partner_id:
            address = partner.heeros_link_einvoice_address_id
            env["heeros.link.einvoice.address"].create(
                {
                    "partner_id": receiver.partner_id.id,
                    "address": address.address,
                    "operator_id": address.operator_id.id,
                }
            )
        connection.company_ids = [Command.link(receiver.id)]
        timestamp = datetime.now(UTC).replace(microsecond=0)
        documents = moves._heeros_link_finvoice_documents(timestamp)
        files = [(d["file_name"], d["data"]) for d in documents.values()]
        print(f"set-up: {len(files)} Finvoice invoices in {time.perf_counter() - start:.1f} s")
        cr.commit()
        maventa_channel.forget_tokens()

        # (a) sending
        Message = env["heeros.link.message"].with_company(company)
        messages = Message.browse()
        for name, data in files:
            messages |= Message._link_queue("finvoice", name, data, company, connection=connection)
        cr.commit()
        env.invalidate_all()
        clock.take()
        _reset_peak()
        before = _peak_kb()
        profiler = None
        if opts.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        begin = time.perf_counter()
        messages._link_send()
        seconds = time.perf_counter() - begin
        if profiler:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"heeros_link|odoo/(models|sql_db)", 25)
        report("(a) send", seconds, len(messages), max(_peak_kb() - before, 0), clock.take())
        states = {state: messages.mapped("state").count(state) for state in set(messages.mapped("state"))}
        print(f"    messages: {states}; at the operator: {len(server.sent())} invoices")

        # (b) receiving
        pdf = b"%PDF-1.4\n% invoice image\n%%EOF\n"
        for (name, data), move in zip(files, moves):
            server.add_received("bench-company-uuid", move.name, data, attachments=[(f"{name}.pdf", pdf)])
        env.invalidate_all()
        clock.take()
        _reset_peak()
        before = _peak_kb()
        begin = time.perf_counter()
        received = connection.with_company(company)._link_fetch()
        seconds = time.perf_counter() - begin
        report("(b) receive", seconds, len(received), max(_peak_kb() - before, 0), clock.take())
        print(f"    listing calls: {server.count('GET', '/v1/invoices') - 2 * len(received)}")
        if opts.process:
            begin = time.perf_counter()
            received._link_process()
            seconds = time.perf_counter() - begin
            states = {state: received.mapped("state").count(state) for state in set(received.mapped("state"))}
            print(f"(c) processing {len(received)} received messages: {seconds:.1f} s; {states}")
        cr.commit()


if __name__ == "__main__":
    main()
