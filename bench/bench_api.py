"""The integration API over real HTTP: listing many messages page by page,
and uploading documents.

Works in a throw-away copy of ``<database>_tpl`` (dropped at the end): puts
``--messages`` messages (100 000 by default) of one company in it, gives a
Link user an API key, starts ``odoo-bin`` on a free port of 127.0.0.1, then

* lists every message page by page (``--page`` per request, 1 000 by
  default; and the first 200 pages of 100),
* uploads ``--uploads`` documents (1 000 by default), each with its own
  Idempotency-Key: half inbound (stored, detected and processed, here into
  ``error`` since they are of no known type), half outbound (queued),

and prints requests per second, p50/p99 latency and the server's peak memory.

    python bench/bench_api.py --config CONF --database DB [--messages 100000] [--uploads 1000]

``bash .ci/link env`` prints the Python and the config file to use.
"""

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
API = "/heeros_link/api/v1"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(what, latencies, elapsed, extra=""):
    print(
        f"{what}: {len(latencies)} requests in {elapsed:.1f} s, {len(latencies) / elapsed:.0f} req/s, "
        f"p50 {percentile(latencies, 0.5) * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms{extra}"
    )


def seed(opts, database):
    """The company, user, key and messages of the run, committed in ``database``."""
    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", opts.config, "-d", database, "--log-level=warn"])
    registry = Registry(database)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        company = env["res.company"].create({"name": "API bench Oy"})
        user = env["res.users"].create(
            {
                "name": "API bench",
                "login": "api-bench",
                "groups_id": [(6, 0, [env.ref("heeros_link_base.group_link_user").id])],
                "company_id": company.id,
                "company_ids": [(6, 0, company.ids)],
            }
        )
        folder = tempfile.mkdtemp(prefix="heeros-link-bench-api-")
        env["ir.config_parameter"].sudo().set_param("heeros_link.local_folder_root", os.path.dirname(folder))
        env["ir.config_parameter"].sudo().set_param("heeros_link.api_rate_limit", "0")
        env["ir.config_parameter"].sudo().set_param("heeros_link.job_workers", "off")
        connection = env["heeros.link.connection"].create(
            {
                "name": "API bench out",
                "protocol": "local",
                "local_root": folder,
                "direction": "out",
                "company_id": company.id,
                "company_ids": [(6, 0, company.ids)],
            }
        )
        key = env["res.users.apikeys"].with_user(user).sudo()._generate("rpc", "bench", None)
        env.flush_all()
        # messages as the Link stores them, inserted in one statement (the
        # intake's own speed is bench_intake.py's subject)
        cr.execute(
            """INSERT INTO heeros_link_message
                      (name, direction, document_type, company_id, file_name, sha256, size, state,
                       attempts, create_uid, create_date, write_uid, write_date)
               SELECT 'BENCH/' || n, CASE WHEN n %% 3 = 0 THEN 'out' ELSE 'in' END, 'camt.053', %s,
                      'file-' || n || '.xml', md5(n::text) || md5((n + 1)::text), 4096,
                      CASE WHEN n %% 3 = 0 THEN 'sent' ELSE 'processed' END, 1, 1,
                      now() at time zone 'utc', 1, now() at time zone 'utc'
                 FROM generate_series(1, %s) AS n""",
            [company.id, opts.messages],
        )
        cr.execute("ANALYZE heeros_link_message")
        cr.commit()
        return company.id, connection.id, key, folder


def serve(opts, database, port):
    """``odoo-bin`` serving ``database`` on ``port``; returns the process once it answers."""
    odoo_bin = Path(sys.modules["odoo"].__file__).resolve().parent.parent / "odoo-bin"
    log = tempfile.NamedTemporaryFile(prefix="bench-api-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [
            sys.executable,
            str(odoo_bin),
            "-c",
            opts.config,
            "-d",
            database,
            "--db-filter",
            f"^{database}$",
            "--http-interface",
            "127.0.0.1",
            "--http-port",
            str(port),
            "--max-cron-threads",
            "0",
            "--workers",
            "0",
            "--log-level",
            "warn",
            "--logfile",
            log.name,
        ]
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/web/health", timeout=2).ok:
                return process, log.name
        except requests.RequestException:
            pass
        if process.poll() is not None:
            sys.exit(f"odoo-bin stopped; see {log.name}")
        time.sleep(0.5)
    process.kill()
    sys.exit(f"odoo-bin did not answer; see {log.name}")


def peak_rss_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def list_all(session, base, page, max_pages=None):
    latencies, seen, cursor = [], 0, None
    start = time.perf_counter()
    while True:
        began = time.perf_counter()
        response = session.get(f"{base}{API}/messages", params={"limit": page, "cursor": cursor}, timeout=120)
        latencies.append(time.perf_counter() - began)
        response.raise_for_status()
        body = response.json()
        seen += len(body["data"])
        cursor = body["next_cursor"]
        if not cursor or (max_pages and len(latencies) >= max_pages):
            return latencies, time.perf_counter() - start, seen


def upload_all(session, base, company, connection, count):
    latencies, states = [], {}
    start = time.perf_counter()
    for i in range(count):
        outbound = i % 2
        params = {"direction": "out" if outbound else "in", "company": company, "file_name": f"up-{i}.xml"}
        if outbound:
            params.update({"document_type": "finvoice", "connection": connection})
        data = b'<?xml version="1.0"?><Upload xmlns="urn:bench"><N>%d</N>' % i + b"<P>x</P>" * 200 + b"</Upload>"
        began = time.perf_counter()
        response = session.post(
            f"{base}{API}/messages",
            params=params,
            data=data,
            headers={"Idempotency-Key": f"bench-{i}", "Content-Type": "application/xml"},
            timeout=120,
        )
        latencies.append(time.perf_counter() - began)
        if response.status_code != 201:
            sys.exit(f"upload {i}: {response.status_code} {response.text[:500]}")
        state = response.json()["state"]
        states[state] = states.get(state, 0) + 1
    return latencies, time.perf_counter() - start, states


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True, help="its <database>_tpl is copied")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=1000)
    parser.add_argument("--uploads", type=int, default=1000)
    opts = parser.parse_args()

    import odoo  # noqa: F401  (odoo-bin is found next to the package)

    copy = f"{opts.database}_bench_api"
    subprocess.run(["dropdb", "--if-exists", copy], check=True)
    subprocess.run(["createdb", "-T", f"{opts.database}_tpl", copy], check=True)
    process = None
    try:
        company, connection, key, _folder = seed(opts, copy)
        port = free_port()
        process, log = serve(opts, copy, port)
        base = f"http://127.0.0.1:{port}"
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        print(f"{opts.messages} messages in {copy}; server log {log}")
        latencies, elapsed, seen = list_all(session, base, opts.page)
        report(f"list, pages of {opts.page}", latencies, elapsed, f", {seen / elapsed:.0f} messages/s, {seen} seen")
        if seen != opts.messages:
            sys.exit(f"paging saw {seen} messages, not {opts.messages}")
        latencies, elapsed, seen = list_all(session, base, 100, max_pages=200)
        report("list, pages of 100 (first 200)", latencies, elapsed, f", {seen / elapsed:.0f} messages/s")
        latencies, elapsed, states = upload_all(session, base, company, connection, opts.uploads)
        summary = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
        report("upload (half inbound, half outbound)", latencies, elapsed, f"; {summary}")
        print(f"server peak RSS {peak_rss_mb(process.pid):.0f} MB; "
              f"client peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")  # fmt: skip
    finally:
        if process:
            process.terminate()
            process.wait(30)
        from odoo.sql_db import close_all

        close_all()
        subprocess.run(["dropdb", "--if-exists", copy], check=False)


if __name__ == "__main__":
    main()
