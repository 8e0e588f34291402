"""Job workers with OCA's queue_job: the crons and large imports only enqueue
jobs in the Link's channels, the jobs do the work once, and two real worker
processes share one queue without doing a message twice.

The test database must have queue_job installed (``bash .ci/link test`` does
it); the tests are skipped only when queue_job is not on the addons path.
"""

import json
import subprocess
import sys
import tempfile
import time
import unittest
import uuid
from pathlib import Path

import pytest

import odoo
from odoo.modules.module import get_module_path
from odoo.tools import config

from ..common import TEST_DATA
from .common import LinkCase
from .test_workers import IBANS, WORKER, psql, template, template_exists

if not get_module_path("queue_job", display_warning=False):
    pytest.skip("OCA queue_job is not on the addons path (see README: Job workers)", allow_module_level=True)

from odoo.addons.heeros_link_base.models.locks import LOCK_PROCESS
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job

IMPORT = "root.heeros_link.import"
SEND = "root.heeros_link.send"
FETCH = "root.heeros_link.fetch"
BANK_FILES = [
    TEST_DATA / "bank" / name for name in ("tito_latin1.txt", "ktl_latin1.txt", "tito_sfs4017.txt", "ktl_sfs4017.txt")
]


class JobCase(LinkCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not cls.Message._link_queue_job_installed():
            raise AssertionError(
                "queue_job is on the addons path but not installed in the test database: update it with -i queue_job"
            )
        cls.env["ir.config_parameter"].sudo().set_param("heeros_link.job_workers", "auto")
        cls.Job = cls.env["queue.job"]

    def setUp(self):
        super().setUp()
        # one cursor serves the jobs' own cursors (they commit each message)
        self.registry.enter_test_mode(self.cr)
        self.addCleanup(self.registry.leave_test_mode)
        self.handled = []

    def handler(self, message):
        self.handled.append(message.id)
        if b"broken" in message._payload():
            raise ValueError("this note is broken")
        return self.env["res.partner"].create({"name": message.file_name})

    def jobs(self, channel=None, records=None):
        domain = [("identity_key", "like", "heeros_link-%")]
        if channel:
            domain.append(("channel", "=", channel))
        jobs = self.Job.search(domain, order="id")
        if records is not None:
            jobs = jobs.filtered(lambda job: job.records == records)
        return jobs

    def perform(self, jobs):
        """Run each job as a worker does and store its outcome."""
        results = []
        self.env.flush_all()
        for record in jobs:
            job = Job.load(self.env, record.uuid)
            job.set_started()
            results.append(job.perform())
            job.set_done(result=results[-1])
            job.store()
        self.env.invalidate_all()
        return results

    def notes(self, count, prefix="note"):
        return [(f"{prefix}-{n:03d}.txt", f"NOTE {prefix} {n}".encode()) for n in range(count)]


class TestProcessingJobs(JobCase):
    def test_large_import_enqueues_one_job_per_file_and_jobs_process_them(self):
        self.env["ir.config_parameter"].sudo().set_param("heeros_link.job_import_threshold", "5")
        with self.registered_type(self.handler):
            messages = self.intake(*self.notes(12))
            self.assertEqual(set(messages.mapped("state")), {"received"})
            self.assertEqual(self.handled, [], "nothing was processed during the import")
            jobs = self.jobs()
            self.assertEqual(len(jobs), 12)
            self.assertEqual(set(jobs.mapped("channel")), {IMPORT})
            self.assertEqual(set(jobs.mapped("method_name")), {"_link_job_process"})
            self.assertEqual(set(jobs.mapped("state")), {"pending"})
            self.assertEqual([job.records.ids for job in jobs], [[m.id] for m in messages.sorted("id")])
            results = self.perform(jobs)
        self.assertEqual(set(messages.mapped("state")), {"processed"})
        self.assertEqual(sorted(self.handled), messages.ids)
        self.assertEqual(set(messages.mapped("attempts")), {1})
        self.assertTrue(all("processed" in result for result in results), results)
        self.assertEqual(set(jobs.mapped("state")), {"done"})

    def test_small_import_is_processed_at_once(self):
        self.env["ir.config_parameter"].sudo().set_param("heeros_link.job_import_threshold", "5")
        with self.registered_type(self.handler):
            messages = self.intake(*self.notes(3))
        self.assertEqual(set(messages.mapped("state")), {"processed"})
        self.assertFalse(self.jobs())

    def test_cron_enqueues_received_messages_once(self):
        with self.registered_type(self.handler):
            messages = self.intake(*self.notes(4), process=False)
            self.Message._cron_process()
            self.assertEqual(set(messages.mapped("state")), {"received"}, "the cron only enqueues")
            # other received messages of the database get their jobs too
            enqueued = self.jobs(IMPORT)
            jobs = enqueued.filtered(lambda job: job.records <= messages)
            self.assertEqual([job.records.ids for job in jobs], [[m.id] for m in messages.sorted("id")])
            self.Message._cron_process()
            self.assertEqual(self.jobs(IMPORT), enqueued, "a message waiting for its job is not enqueued again")
            self.perform(jobs)
        self.assertEqual(set(messages.mapped("state")), {"processed"})
        self.Message._cron_process()
        self.assertEqual(self.jobs(IMPORT), enqueued, "nothing left to enqueue")

    def test_enqueue_limit_moves_forward_run_by_run(self):
        messages = self.intake(*self.notes(5), process=False).sorted("id")
        runs = [messages._link_enqueue_processing(limit=2) for _run in range(4)]
        self.assertEqual([len(run) for run in runs], [2, 2, 1, 0])
        self.assertEqual([job.records.ids for job in self.jobs(IMPORT)], [[m.id] for m in messages])

    def test_job_of_a_message_processed_meanwhile_does_nothing(self):
        with self.registered_type(self.handler):
            message = self.intake(*self.notes(1), process=False)
            [job] = message._link_enqueue_processing()
            message._link_process()
            self.assertEqual(message.state, "processed")
            self.assertEqual(self.handled, [message.id])
            [result] = self.perform(self.jobs(records=message))
        self.assertIn("nothing to do", result)
        self.assertEqual(self.handled, [message.id], "the handler ran once")
        self.assertEqual(message.attempts, 1)
        self.assertEqual(message._linked("res.partner").mapped("name"), [message.file_name])
        self.assertEqual(job.uuid, self.jobs(records=message).uuid)

    def test_job_of_a_cancelled_message_does_nothing(self):
        with self.registered_type(self.handler):
            message = self.intake(*self.notes(1), process=False)
            message._link_enqueue_processing()
            message.action_cancel()
            [result] = self.perform(self.jobs(records=message))
        self.assertIn("nothing to do", result)
        self.assertEqual(message.state, "cancelled")
        self.assertEqual(self.handled, [])

    def test_permanent_failure_puts_the_message_in_error_and_the_job_ends(self):
        with self.registered_type(self.handler):
            messages = self.intake(("good.txt", b"NOTE good"), ("bad.txt", b"NOTE broken"), process=False)
            messages._link_enqueue_processing()
            self.perform(self.jobs(IMPORT))
        self.assertEqual(messages.mapped("state"), ["processed", "error"])
        self.assertIn("this note is broken", messages[1].error)
        self.assertIn("bad.txt", messages[1].error)
        self.assertEqual(set(self.jobs(IMPORT).mapped("state")), {"done"})

    def test_message_held_by_another_worker_is_retried_later(self):
        with self.registered_type(self.handler):
            message = self.intake(*self.notes(1), process=False)
            message._link_enqueue_processing()
            other = odoo.sql_db.db_connect(self.env.cr.dbname).cursor()
            try:
                other.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_PROCESS, message.id])
                job = Job.load(self.env, self.jobs(records=message).uuid)
                with self.assertRaises(RetryableJobError):
                    job.perform()
            finally:
                other.execute("SELECT pg_advisory_unlock_all()")
                other.close()
            self.assertEqual(message.state, "received")
            self.assertEqual(self.handled, [])
            job.perform()
        message.invalidate_recordset()
        self.assertEqual(message.state, "processed")
        self.assertEqual(self.handled, [message.id])

    def test_without_job_workers_the_cron_processes_itself(self):
        self.env["ir.config_parameter"].sudo().set_param("heeros_link.job_workers", "off")
        with self.registered_type(self.handler):
            messages = self.intake(*self.notes(3), process=False)
            self.Message._cron_process()
        self.assertEqual(set(messages.mapped("state")), {"processed"})
        self.assertFalse(self.jobs())

    def test_channels_and_job_functions_exist(self):
        channels = self.env["queue.job.channel"].search([("complete_name", "like", "root.heeros_link%")])
        self.assertEqual(set(channels.mapped("complete_name")), {"root.heeros_link", IMPORT, SEND, FETCH})
        functions = self.env["queue.job.function"].search([("name", "like", "%_link_job_%")])
        self.assertEqual(
            {f.name: (f.channel, f.allow_commit) for f in functions},
            {
                "<heeros.link.message>._link_job_process": (IMPORT, True),
                "<heeros.link.message>._link_job_send": (SEND, True),
                "<heeros.link.connection>._link_job_fetch": (FETCH, True),
            },
        )


class TestSendAndFetchJobs(JobCase):
    def test_send_cron_enqueues_chunks_per_connection_and_jobs_send(self):
        self.env["ir.config_parameter"].sudo().set_param("heeros_link.job_send_chunk", "2")
        messages = self.Message
        for number in range(5):
            messages |= self.Message._link_queue(
                "test.out", f"out-{number}.xml", b"<out/>", self.bureau, connection=self.connection
            )
        self.Message._cron_send()
        self.assertEqual(set(messages.mapped("state")), {"queued"}, "the cron only enqueues")
        enqueued = self.jobs(SEND)
        jobs = enqueued.filtered(lambda job: job.records <= messages)
        self.assertEqual([len(job.records) for job in jobs], [2, 2, 1])
        self.assertEqual([id_ for job in jobs for id_ in job.records.ids], messages.ids)
        self.Message._cron_send()
        self.assertEqual(self.jobs(SEND), enqueued, "chunks waiting for their job are not enqueued again")
        self.perform(jobs)
        self.assertEqual(set(messages.mapped("state")), {"sent"})
        outbox = Path(self.tmp) / "outbox"
        self.assertEqual(sorted(p.name for p in outbox.iterdir()), sorted(messages.mapped("remote_name")))
        [again] = self.perform(jobs[:1])
        self.assertIn("No message left", again)
        self.assertEqual(set(messages.mapped("attempts")), {1}, "each message was sent once")

    def test_fetch_cron_enqueues_a_fetch_job_that_stores_and_enqueues_processing(self):
        inbox = Path(self.tmp) / "inbox"
        inbox.mkdir(parents=True, exist_ok=True)
        for name, data in self.notes(3, "fetched"):
            (inbox / name).write_bytes(data)
        self.env["heeros.link.connection"]._cron_fetch()
        self.assertFalse(self.Message.search([("connection_id", "=", self.connection.id)]), "the cron only enqueues")
        [fetch] = self.jobs(FETCH)
        self.assertEqual(fetch.records, self.connection)
        with self.registered_type(self.handler):
            [result] = self.perform(fetch)
            self.assertIn("3", result)
            messages = self.Message.search([("connection_id", "=", self.connection.id)], order="id")
            self.assertEqual(sorted(messages.mapped("file_name")), [n for n, _d in self.notes(3, "fetched")])
            self.assertEqual(set(messages.mapped("state")), {"received"})
            process = self.jobs(IMPORT)
            self.assertEqual([job.records.ids for job in process], [[m.id] for m in messages])
            self.perform(process)
        self.assertEqual(set(messages.mapped("state")), {"processed"})
        self.assertFalse(list(inbox.iterdir()), "fetched files were confirmed on the remote side")


def queue_job_in(db):
    return psql(db, "SELECT state FROM ir_module_module WHERE name = 'queue_job'") == [["installed"]]


@unittest.skipUnless(config.rcfile and template_exists(), "needs the template copy made by .ci/link test")
class TestJobWorkerProcesses(unittest.TestCase):
    """Real job worker processes on one import queue."""

    def setUp(self):
        self.assertTrue(queue_job_in(template()), f"queue_job is not installed in {template()}")
        self.db = f"{config['db_name']}_j{uuid.uuid4().hex[:8]}"
        subprocess.run(["createdb", "-T", template(), self.db], check=True)
        self.addCleanup(subprocess.run, ["dropdb", "--if-exists", self.db], check=False)
        self.worker("setup", *IBANS)

    def worker(self, *args, wait=True):
        cmd = [sys.executable, str(WORKER), config.rcfile, self.db, *args]
        if not wait:
            return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        return result.stdout

    def start_workers(self, count, start):
        """``count`` job workers that start together, once all are loaded."""
        workers = [self.worker("jobs", IMPORT, str(start), wait=False) for _i in range(count)]
        deadline = time.monotonic() + 120
        while len(list(start.parent.glob(f"{start.name}.*.ready"))) < count and time.monotonic() < deadline:
            self.assertTrue(all(w.poll() is None for w in workers), "a worker stopped early")
            time.sleep(0.1)
        start.touch()
        return workers

    def finish(self, workers):
        reports = []
        for process in workers:
            out, err = process.communicate(timeout=300)
            self.assertEqual(process.returncode, 0, err[-3000:])
            reports.append(json.loads(out.splitlines()[-1]))
        return reports

    def assert_each_message_done_once(self, ids):
        in_ids = ",".join(map(str, ids))
        rows = psql(
            self.db, f"SELECT id, state, attempts, coalesce(error, '') FROM heeros_link_message WHERE id IN ({in_ids})"
        )
        self.assertEqual(len(rows), len(ids))
        for _id, state, attempts, error in rows:
            self.assertIn(state, ("processed", "duplicate"), error)
            self.assertEqual(attempts, "1", "each message is processed exactly once")
        processed = psql(
            self.db,
            "SELECT sha256, count(*) FROM heeros_link_message "
            f"WHERE id IN ({in_ids}) AND state = 'processed' GROUP BY 1",
        )
        self.assertTrue(processed, "the files were processed")
        self.assertLessEqual(len(processed), len(BANK_FILES))
        self.assertEqual({count for _sha, count in processed}, {"1"}, "the same file was processed twice")
        doubled = psql(
            self.db,
            "SELECT heeros_link_import_id FROM account_bank_statement_line "
            "WHERE heeros_link_import_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1",
        )
        self.assertEqual(doubled, [])

    def test_two_workers_share_fifty_files(self):
        ids = json.loads(self.worker("intake", *map(str, (BANK_FILES * 13)[:50])))
        self.assertEqual(len(ids), 50)
        self.assertEqual(json.loads(self.worker("enqueue")), {IMPORT: 50})
        with tempfile.TemporaryDirectory() as tmp:
            reports = self.finish(self.start_workers(2, Path(tmp) / "start"))
        self.assertEqual([r["failed"] for r in reports], [0, 0], reports)
        self.assertTrue(all(r["performed"] > 0 for r in reports), f"both workers ran jobs: {reports}")
        self.assert_each_message_done_once(ids)
        jobs = psql(self.db, "SELECT state, worker_pid, count(*) FROM queue_job GROUP BY 1, 2")
        self.assertEqual({state for state, _pid, _n in jobs}, {"done"}, jobs)
        self.assertEqual(sum(int(n) for _s, _p, n in jobs), 50)
        self.assertEqual({int(pid) for _s, pid, _n in jobs}, {r["pid"] for r in reports})

    def test_a_killed_worker_leaves_nothing_undone_or_doubled(self):
        ids = json.loads(self.worker("intake", *map(str, (BANK_FILES * 5)[:20])))
        self.assertEqual(json.loads(self.worker("enqueue")), {IMPORT: 20})
        with tempfile.TemporaryDirectory() as tmp:
            [victim] = self.start_workers(1, Path(tmp) / "first")
            deadline = time.monotonic() + 120
            while victim.poll() is None and time.monotonic() < deadline:
                if int(psql(self.db, "SELECT count(*) FROM queue_job WHERE state = 'done'")[0][0]) >= 3:
                    break
                time.sleep(0.02)
            victim.kill()
            victim.communicate(timeout=60)
            left = int(psql(self.db, "SELECT count(*) FROM queue_job WHERE state != 'done'")[0][0])
            self.assertGreater(left, 0, "the worker was killed before the end")
            # queue_job's runner takes back the jobs of a dead worker 10 s after they were enqueued
            time.sleep(11)
            self.worker("requeue")
            reports = self.finish(self.start_workers(1, Path(tmp) / "second"))
        self.assertEqual(reports[0]["failed"], 0, reports)
        self.assertEqual(psql(self.db, "SELECT state, count(*) FROM queue_job GROUP BY 1"), [["done", "20"]])
        self.assert_each_message_done_once(ids)
