"""A Link worker in its own process, for the crash and concurrency tests.

    python worker.py CONFIG DATABASE setup IBAN...
    python worker.py CONFIG DATABASE intake FILE...
    python worker.py CONFIG DATABASE setup-folder ROOT OUTBOUND
    python worker.py CONFIG DATABASE process|send|fetch|recover|cycle [ROUNDS]
    python worker.py CONFIG DATABASE enqueue
    python worker.py CONFIG DATABASE jobs CHANNEL START_FILE
    python worker.py CONFIG DATABASE requeue

``setup`` gives the main company (in EUR) a bank journal per IBAN and prints the
company id; ``intake`` stores files as received messages; the others run the
Link's own scheduler methods, as an Odoo cron worker would (``cycle``: fetch
from every connection, process, recover and send). ``setup-folder`` adds a
local-folder connection on ROOT and queues OUTBOUND messages on it. ``setup``
keeps the work in the crons even when queue_job is installed; ``enqueue``
turns job workers on and runs the processing cron, which then only enqueues
jobs; ``jobs`` is one queue_job worker: once its registry is loaded it writes
``START_FILE.<pid>.ready``, waits for START_FILE, then runs the jobs of
CHANNEL with queue_job's own code until none is left, and prints what it did;
``requeue`` puts the jobs of a killed worker back in the queue, as queue_job's
runner does.
"""

# stdout carries the results the tests read.
# pylint: disable=print-used
import json
import os
import sys
import time
from pathlib import Path

#: A jobs worker gives up after this long (seconds).
JOBS_TIMEOUT = 240


def cycle(env):
    env["heeros.link.connection"].search([("direction", "in", ("in", "both"))])._link_fetch()
    env["heeros.link.message"]._cron_process()
    env["heeros.link.message"]._cron_send()


def run_jobs(registry, channel, start_file):
    """Run the jobs of ``channel`` as queue_job's runner and its runjob route
    do: the next pending job is marked enqueued, then acquired and performed
    by queue_job's controller code (which retries, postpones or fails it)."""
    import odoo
    from odoo.addons.queue_job.controllers.main import RunJobController

    Path(f"{start_file}.{os.getpid()}.ready").touch()
    deadline = time.monotonic() + JOBS_TIMEOUT
    while not Path(start_file).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    performed, failed = 0, 0
    channels = [channel, f"{channel}.%"]
    while time.monotonic() < deadline:
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            cr.execute(
                "SELECT uuid FROM queue_job WHERE state = 'pending' "
                "AND (channel = %s OR channel LIKE %s) "
                "AND (eta IS NULL OR eta <= now() AT TIME ZONE 'utc') "
                "ORDER BY priority, date_created, id LIMIT 1 FOR UPDATE SKIP LOCKED",
                channels,
            )
            row = cr.fetchone()
            if not row:
                cr.execute(
                    "SELECT count(*) FROM queue_job WHERE state IN "
                    "('pending', 'enqueued', 'started') AND (channel = %s OR channel LIKE %s)",
                    channels,
                )
                if not cr.fetchone()[0]:
                    break
                cr.rollback()
                time.sleep(0.1)
                continue
            cr.execute(
                "UPDATE queue_job SET state = 'enqueued', date_enqueued = now() AT TIME ZONE 'utc' WHERE uuid = %s", row
            )
            cr.commit()
            job = RunJobController._acquire_job(env, row[0])
            if not job:
                continue
            try:
                RunJobController._runjob(env, job)
                performed += 1
            except Exception:  # stored on the job as failed by queue_job
                failed += 1
                cr.rollback()
    print(json.dumps({"pid": os.getpid(), "performed": performed, "failed": failed}))


def main(argv):
    conf, db, action, *rest = argv
    import odoo
    from odoo.tools import config

    config.parse_config(["-c", conf, "-d", db, "--log-level=warn"], setup_logging=True)
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        Message = env["heeros.link.message"]
        if action == "setup":
            env["ir.config_parameter"].set_param("heeros_link.job_workers", "off")
            company = env.user.company_id
            company.currency_id = env.ref("base.EUR")
            journal = env["account.journal"].search([("type", "=", "bank"), ("company_id", "=", company.id)], limit=1)
            journal.bank_acc_number = rest[0]
            for number, iban in enumerate(rest[1:], start=2):
                env["account.journal"].create(
                    {
                        "name": f"Bank {number}",
                        "code": f"BNK{number}",
                        "type": "bank",
                        "company_id": company.id,
                        "bank_acc_number": iban,
                    }
                )
            cr.commit()
            print(json.dumps({"company_id": company.id, "journal_id": journal.id}))
        elif action == "setup-folder":
            company = env.user.company_id
            connection = env["heeros.link.connection"].create(
                {
                    "name": "Crash test folder",
                    "protocol": "local",
                    "local_root": rest[0],
                    "direction": "both",
                    "company_id": company.id,
                    "company_ids": [(6, 0, company.ids)],
                    "max_attempts": 50,
                    "retry_delay": 0,
                }
            )
            for number in range(int(rest[1])):
                Message._link_queue(
                    "test.out", f"out-{number:04d}.xml", f"<out n='{number}'/>".encode(), company, connection=connection
                )
            cr.commit()
            print(json.dumps({"connection_id": connection.id}))
        elif action == "intake":
            messages = Message._link_intake(
                [(Path(p).name, Path(p).read_bytes()) for p in rest], company=env.user.company_id, process=False
            )
            cr.commit()
            print(json.dumps(messages.ids))
        elif action == "enqueue":
            env["ir.config_parameter"].set_param("heeros_link.job_workers", "auto")
            Message._cron_process()
            cr.commit()
            cr.execute("SELECT channel, count(*) FROM queue_job GROUP BY channel")
            print(json.dumps(dict(cr.fetchall())))
        elif action == "jobs":
            run_jobs(registry, rest[0], rest[1])
        elif action == "requeue":
            from odoo.addons.queue_job.jobrunner.runner import Database

            database = Database(db)
            try:
                database.requeue_dead_jobs()
            finally:
                database.close()
        else:
            method = {
                "process": Message._cron_process,
                "send": Message._cron_send,
                "fetch": env["heeros.link.connection"]._cron_fetch,
                "recover": Message._link_recover_sending,
                "cycle": lambda: cycle(env),
            }[action]
            for _round in range(int(rest[0]) if rest else 1):
                method()
                cr.commit()


if __name__ == "__main__":
    main(sys.argv[1:])
