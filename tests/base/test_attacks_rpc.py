"""Attacks through real JSON-RPC, as a logged-in Link user and Link manager.

Everything here goes through Odoo's HTTP layer the way a browser or a script
would (``/web/dataset/call_kw`` and ``/web/dataset/call_button``), with
whatever context the attacker likes. After each attack the protected state is
read back as the superuser: archive entries and their files, message payloads,
the state machine, other companies' records and the connections' secrets.
"""

import hashlib
import json
import re
from datetime import date
from pathlib import Path

from odoo.tests.common import HttpCase, new_test_user

REPO = Path(__file__).resolve().parents[2]
SECRET_PAYLOAD = b"NOTE PAYROLL-CONFIDENTIAL FI2112345600000785 salary 7421,00"
SECRET_PASSWORD = "sftp-pass-9d1c"
SUITE_MODULE = "odoo.addons.heeros_link_"


def context_keys_read_by_the_suite():
    """Every context key the suite's Python code reads, found in its source,
    so that a key added later is attacked too."""
    keys = set()
    pattern = re.compile(r"""context(?:\.get\(|\[)\s*["']([\w.]+)["']|with_context\((\w+)=""")
    for path in REPO.glob("heeros_link_*/**/*.py"):
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            keys.add(match.group(1) or match.group(2))
    return keys


class AttackCase(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        Company = env["res.company"]
        cls.own = Company.create({"name": "Oma Yritys Oy"})
        cls.foreign = Company.create({"name": "Vieras Yritys Oy"})
        cls.user = new_test_user(
            env,
            "attack-user",
            password="attack-user-pw",
            groups="heeros_link_base.group_link_user,account.group_account_invoice",
            company_id=cls.own.id,
            company_ids=[(6, 0, cls.own.ids)],
        )
        cls.manager = new_test_user(
            env,
            "attack-manager",
            password="attack-manager-pw",
            groups="heeros_link_base.group_link_manager,account.group_account_manager",
            company_id=cls.own.id,
            company_ids=[(6, 0, cls.own.ids)],
        )
        Connection = env["heeros.link.connection"]
        cls.own_connection = Connection.create(
            {
                "name": "Own SFTP",
                "protocol": "sftp",
                "host": "127.0.0.1",
                "port": 1,
                "company_id": cls.own.id,
                "company_ids": [(6, 0, cls.own.ids)],
                "password": SECRET_PASSWORD,
            }
        )
        cls.foreign_connection = Connection.create(
            {
                "name": "Foreign SFTP",
                "protocol": "sftp",
                "host": "127.0.0.1",
                "port": 1,
                "company_id": cls.foreign.id,
                "company_ids": [(6, 0, cls.foreign.ids)],
                "password": SECRET_PASSWORD,
            }
        )
        Message = env["heeros.link.message"]
        cls.own_message = Message._link_intake([("own.txt", b"NOTE own file")], company=cls.own, process=False)
        cls.foreign_message = Message._link_intake(
            [("payroll.txt", SECRET_PAYLOAD)], company=cls.foreign, process=False
        )
        cls.foreign_outbound = Message._link_queue(
            "test.out", "batch.xml", b"<pain>foreign</pain>", cls.foreign, connection=cls.foreign_connection
        )
        # their payloads archived as when they reach their final state, while the
        # messages stay received for the tests that reprocess them
        env["heeros.link.archive.entry"]._archive_messages(cls.own_message | cls.foreign_message)
        cls.env.flush_all()

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def rpc(self, model, method, args, kwargs=None, context=None, button=False):
        """One JSON-RPC call; returns ``(result, error)`` where ``error`` is
        the server's error object (name and message) or None."""
        kwargs = dict(kwargs or {})
        kwargs["context"] = context if context is not None else {}
        payload = json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "call",
                "id": 1,
                "params": {"model": model, "method": method, "args": args, "kwargs": kwargs},
            }
        ).encode()
        route = "/web/dataset/call_button" if button else "/web/dataset/call_kw"
        response = self.url_open(route, data=payload, headers={"Content-Type": "application/json"}, timeout=60)
        response.raise_for_status()
        body = response.json()
        self.env.invalidate_all()
        if "error" in body:
            data = body["error"].get("data") or {}
            return None, {"name": data.get("name", ""), "message": data.get("message", "")}
        return body.get("result"), None

    def assert_refused(self, model, method, args, kwargs=None, context=None, button=False):
        result, error = self.rpc(model, method, args, kwargs, context, button)
        self.assertIsNotNone(error, f"{model}.{method}{args} was accepted: {result!r}")
        return error

    def hostile_context(self, user):
        """Every context key the suite reads, set to what an attacker would
        want, plus Odoo's keys that change defaults and filters."""
        context = dict.fromkeys(context_keys_read_by_the_suite(), True)
        context.update(
            {
                # Odoo refuses a language that is not installed before any of our
                # code runs: the attacker's language is one that exists
                "lang": "en_US",
                "allowed_company_ids": user.company_ids.ids,
                "active_test": False,
                "tracking_disable": True,
                "install_mode": True,
                "default_state": "sent",
                "default_direction": "out",
                "default_company_id": self.foreign.id,
                "default_attachment_id": self.foreign_message.attachment_id.id,
                "default_connection_id": self.foreign_connection.id,
            }
        )
        return context

    def snapshot(self):
        """What no attack may change, read below the ORM."""
        cr = self.env.cr
        self.env.flush_all()
        cr.execute("""SELECT id, message_id, company_id, file_name, size, sha256, attachment_id, archived_on,
                             retain_until, previous_id, chain_hash, purged, legal_hold, disposal_id,
                             document_number, amount, partner_id
                        FROM heeros_link_archive_entry ORDER BY id""")
        archive = cr.fetchall()
        cr.execute("""SELECT id, res_model, res_id, company_id, checksum, store_fname, db_datas
                        FROM ir_attachment
                       WHERE res_model IN ('heeros.link.message', 'heeros.link.archive.entry')
                    ORDER BY id""")
        files = cr.fetchall()
        cr.execute("""SELECT id, direction, company_id, connection_id, attachment_id, sha256, size,
                             file_name, remote_name, parent_id, duplicate_of_id
                        FROM heeros_link_message ORDER BY id""")
        messages = cr.fetchall()
        cr.execute(
            """SELECT id, state, error, attempts FROM heeros_link_message
                       WHERE company_id != %s ORDER BY id""",
            [self.own.id],
        )
        foreign_states = cr.fetchall()
        cr.execute("""SELECT id, company_id, protocol, host, port, username, host_key, password, private_key,
                             passphrase, local_root, inbox_folder, outbox_folder, archive_folder
                        FROM heeros_link_connection ORDER BY id""")
        connections = cr.fetchall()
        cr.execute("SELECT count(*) FROM heeros_link_message_link")
        links = cr.fetchall()
        return {
            "archive": archive,
            "files": files,
            "messages": messages,
            "foreign states": foreign_states,
            "connections": connections,
            "links": links,
        }

    def assert_intact(self, before, what):
        after = self.snapshot()
        for key, rows in before.items():
            self.assertEqual(after[key], rows, f"{what}: {key} changed")
        self.assertFalse(self.archive_faults(), f"{what}: the archive no longer verifies")
        self.assert_guard_on(what)

    def archive_faults(self):
        """Faults of the archives of this test's companies (bytes, chain,
        checkpoint)."""
        return self.env["heeros.link.archive.verification"]._heeros_link_check((self.own | self.foreign).ids)["faults"]

    def assert_guard_on(self, what):
        """The database's guard was not relaxed by anything a client did."""
        self.env.cr.execute("SELECT current_setting('heeros_link_archive.disposal', true)")
        self.assertNotEqual(self.env.cr.fetchone()[0], "on", f"{what}: the disposal setting is on")


class TestArchiveForgery(AttackCase):
    def expired_entry(self):
        """A document of 2010 archived now: its retention has ended."""
        entry = self.env["heeros.link.archive.entry"]._heeros_link_archive(
            [
                {
                    "company": self.own,
                    "data": b"NOTE old voucher",
                    "file_name": "old.txt",
                    "kind": "document",
                    "metadata": {"document_date": date(2010, 5, 1)},
                }
            ]
        )
        self.assertLess(entry.retain_until, date.today())
        return entry

    def test_manager_cannot_forge_or_hide_an_archived_document(self):
        self.authenticate("attack-manager", "attack-manager-pw")
        entry = self.own_message.archive_entry_id
        attachment = entry.attachment_id
        before = self.snapshot()
        forged = b"NOTE forged"
        forged_hash = hashlib.sha256(forged).hexdigest()
        context = self.hostile_context(self.manager)
        context["heeros_link_archive_purge"] = True
        attacks = [
            ("heeros.link.archive.entry", "write", [entry.ids, {"sha256": forged_hash, "chain_hash": "0" * 64}]),
            ("heeros.link.archive.entry", "write", [entry.ids, {"purged": True}]),
            ("heeros.link.archive.entry", "write", [entry.ids, {"verification": "ok"}]),
            ("heeros.link.archive.entry", "write", [entry.ids, {"attachment_id": False}]),
            ("heeros.link.archive.entry", "unlink", [entry.ids]),
            (
                "heeros.link.archive.entry",
                "create",
                [
                    {
                        "message_id": self.own_message.id,
                        "company_id": self.own.id,
                        "sha256": forged_hash,
                        "chain_hash": "0" * 64,
                        "retain_until": "2099-12-31",
                    }
                ],
            ),
            ("ir.attachment", "write", [attachment.ids, {"raw": forged.decode()}]),
            ("ir.attachment", "write", [attachment.ids, {"datas": "Tk9URSBmb3JnZWQ="}]),
            ("ir.attachment", "write", [attachment.ids, {"res_model": "res.partner"}]),
            ("ir.attachment", "unlink", [attachment.ids]),
            ("ir.attachment", "write", [self.own_message.attachment_id.ids, {"raw": forged.decode()}]),
            ("ir.attachment", "write", [self.own_message.attachment_id.ids, {"res_id": 0}]),
        ]
        for model, method, args in attacks:
            with self.subTest(model=model, method=method, args=args):
                self.assert_refused(model, method, args, context=context)
                self.assert_intact(before, f"{model}.{method}")
        self.assertEqual(entry.sudo().attachment_id.raw, b"NOTE own file")

    def test_manager_cannot_dispose_hold_or_reach_the_disposal_path(self):
        self.authenticate("attack-manager", "attack-manager-pw")
        entry = self.expired_entry()
        before = self.snapshot()
        context = self.hostile_context(self.manager)
        context.update({"heeros_link_archive_purge": True, "heeros_link_archive.disposal": "on"})
        attacks = [
            ("heeros.link.archive.entry", "action_dispose", [entry.ids], True),
            ("heeros.link.archive.entry", "action_legal_hold", [entry.ids], True),
            ("heeros.link.archive.entry", "_heeros_link_dispose", [entry.ids, "x"], False),
            ("heeros.link.archive.entry", "_heeros_link_set_hold", [entry.ids, True], False),
            ("heeros.link.archive.entry", "write", [entry.ids, {"legal_hold": True}], False),
            ("heeros.link.archive.rule", "create", [{"company_id": self.own.id, "retention_years": 1}], False),
            (
                "heeros.link.archive.checkpoint",
                "create",
                [{"company_id": self.own.id, "checkpoint_hash": "0", "taken_on": "2026-01-01 00:00:00"}],
                False,
            ),
            (
                "heeros.link.archive.verification",
                "create",
                [{"started_on": "2026-01-01 00:00:00", "result": "ok"}],
                False,
            ),
            ("ir.config_parameter", "set_param", ["heeros_link_archive.disposal", "on"], False),
        ]
        for model, method, args, button in attacks:
            with self.subTest(model=model, method=method):
                self.assert_refused(model, method, args, context=context, button=button)
                self.assert_intact(before, f"{model}.{method}")
        self.assertTrue(entry.sudo().attachment_id.raw)

    def test_archive_manager_disposes_through_the_recorded_path(self):
        archivist = new_test_user(
            self.env,
            "attack-archivist",
            password="attack-archivist-pw",
            groups="heeros_link_archive.group_archive_manager",
            company_id=self.own.id,
            company_ids=[(6, 0, self.own.ids)],
        )
        entry = self.expired_entry()
        self.authenticate("attack-archivist", "attack-archivist-pw")
        _result, error = self.rpc(
            "heeros.link.archive.entry",
            "action_dispose",
            [entry.ids],
            button=True,
            context={"allowed_company_ids": self.own.ids},
        )
        self.assertIsNone(error, error)
        self.assertTrue(entry.purged)
        self.assertFalse(entry.attachment_id)
        self.assertEqual(entry.disposal_id.user_id, archivist)
        self.assertFalse(self.archive_faults())
        self.assert_guard_on("disposal")
        # what is disposed of is gone from reach, yet nothing else changed for the other company
        self.assertTrue(self.foreign_message.archive_entry_id.sudo().attachment_id.raw)


class TestMessageTampering(AttackCase):
    def test_user_cannot_point_his_message_at_another_companys_file(self):
        self.authenticate("attack-user", "attack-user-pw")
        before = self.snapshot()
        own_attachment = self.own_message.attachment_id
        foreign_attachment = self.foreign_message.attachment_id
        error = self.assert_refused(
            "heeros.link.message", "write", [self.own_message.ids, {"attachment_id": foreign_attachment.id}]
        )
        self.assertIn("AccessError", error["name"])
        # reprocessing his own message shows nothing of the other company's file
        result, error = self.rpc("heeros.link.message", "action_reprocess", [self.own_message.ids], button=True)
        message = self.own_message.sudo()
        self.assertEqual(message.attachment_id, own_attachment)
        self.assertNotIn("PAYROLL", message.error or "")
        self.assertNotIn("PAYROLL", json.dumps([result, error]))
        self.assertEqual(self.snapshot()["files"], before["files"])

    def test_user_cannot_drive_the_state_machine_by_hand(self):
        self.authenticate("attack-user", "attack-user-pw")
        before = self.snapshot()
        for vals in (
            {"state": "processed"},
            {"state": "sent"},
            {"sha256": "0" * 64},
            {"error": False},
            {"company_id": self.foreign.id},
            {"direction": "out"},
            {"remote_name": "../../x"},
            {"parent_id": self.foreign_message.id},
            {"duplicate_of_id": self.foreign_message.id},
            {"connection_id": self.foreign_connection.id},
            {"attempts": 0},
            {"link_ids": [(0, 0, {"res_model": "res.partner", "res_id": 1})]},
        ):
            with self.subTest(vals=vals):
                self.assert_refused(
                    "heeros.link.message",
                    "write",
                    [self.own_message.ids, vals],
                    context=self.hostile_context(self.user),
                )
        self.assertEqual(self.own_message.sudo().state, "received")
        self.assert_intact(before, "message write")

    def test_user_cannot_create_a_message_from_his_own_bytes(self):
        self.authenticate("attack-user", "attack-user-pw")
        attachment_id, error = self.rpc(
            "ir.attachment",
            "create",
            [{"name": "evil.xml", "raw": "<pain>mine</pain>", "res_model": "heeros.link.upload"}],
        )
        self.assertIsNone(error, error)
        before = self.snapshot()
        for context in ({}, self.hostile_context(self.user)):
            with self.subTest(context=bool(context)):
                error = self.assert_refused(
                    "heeros.link.message",
                    "create",
                    [
                        {
                            "direction": "out",
                            "company_id": self.own.id,
                            "connection_id": self.own_connection.id,
                            "state": "queued",
                            "file_name": "evil.xml",
                            "remote_name": "evil.xml",
                            "attachment_id": attachment_id,
                        }
                    ],
                    context=context,
                )
                self.assertIn("AccessError", error["name"])
        self.assert_intact(before, "message create")
        self.assertFalse(self.env["heeros.link.message"].sudo().search([("file_name", "=", "evil.xml")]))

    def test_upload_dialog_imports_only_files_uploaded_into_it(self):
        # a file of another company, attached to one of its records
        note = self.env["ir.attachment"].create(
            {
                "name": "palkat.txt",
                "raw": SECRET_PAYLOAD,
                "res_model": "res.partner",
                "res_id": self.foreign.partner_id.id,
                "company_id": self.foreign.id,
            }
        )
        self.authenticate("attack-user", "attack-user-pw")
        for attachment in (note, self.own_message.attachment_id):
            with self.subTest(attachment=attachment.name):
                wizard_id, error = self.rpc(
                    "heeros.link.upload",
                    "create",
                    [{"company_id": self.own.id, "attachment_ids": [(6, 0, attachment.ids)]}],
                )
                if error is None:
                    result, error = self.rpc("heeros.link.upload", "action_import", [[wizard_id]], button=True)
                    self.assertIsNotNone(error, f"imported {attachment.name}: {result!r}")
                self.assertTrue(attachment.sudo().exists(), "another record's file was removed")
                self.assertFalse(
                    self.env["heeros.link.message"]
                    .sudo()
                    .search(
                        [("company_id", "=", self.own.id), ("sha256", "=", hashlib.sha256(SECRET_PAYLOAD).hexdigest())]
                    )
                )
                self.assertNotIn("PAYROLL", json.dumps(error))

    def test_user_sees_nothing_of_another_company(self):
        self.authenticate("attack-user", "attack-user-pw")
        calls = [
            ("heeros.link.message", "read", [self.foreign_message.ids, ["file_name", "error"]]),
            ("heeros.link.message", "action_download", [self.foreign_message.ids]),
            ("heeros.link.message", "action_reprocess", [self.foreign_message.ids]),
            ("heeros.link.message", "action_retry", [self.foreign_outbound.ids]),
            ("ir.attachment", "read", [self.foreign_message.attachment_id.ids, ["raw"]]),
            ("heeros.link.archive.entry", "read", [self.foreign_message.archive_entry_id.ids, ["sha256"]]),
        ]
        for model, method, args in calls:
            with self.subTest(method=method):
                result, error = self.rpc(model, method, args, context=self.hostile_context(self.user))
                self.assertIsNotNone(error, f"{model}.{method} answered {result!r}")
                self.assertNotIn("PAYROLL", json.dumps([result, error]))
        found, error = self.rpc(
            "heeros.link.message",
            "search_read",
            [[("id", "=", self.foreign_message.id)], ["file_name"]],
            context=self.hostile_context(self.user),
        )
        self.assertEqual(found, [], error)


class TestEveryPublicMethod(AttackCase):
    """Every public method the suite defines, called through JSON-RPC on
    another company's records and on the caller's own, with every context key
    the suite reads: nothing protected changes and nothing of the other
    company comes back."""

    def suite_methods(self):
        found = {}
        for model_name in sorted(self.env.registry):
            cls = type(self.env[model_name])
            for name in dir(cls):
                if name.startswith("_"):
                    continue
                function = getattr(cls, name, None)
                module = getattr(function, "__module__", "") or ""
                if callable(function) and module.startswith(SUITE_MODULE):
                    found.setdefault(model_name, set()).add(name)
        return found

    def targets(self, model_name):
        """An own and a foreign record of the model, where such exist."""
        Model = self.env[model_name].sudo().with_context(active_test=False)
        if Model._abstract:
            return []  # no records to call it on: its methods run through the concrete models
        if "company_id" not in Model._fields or not Model._fields["company_id"].store:
            return [Model.search([], limit=1, order="id")]
        return [
            Model.search([("company_id", "=", company.id)], limit=1, order="id") for company in (self.foreign, self.own)
        ]

    def sweep(self, login, password, user):
        methods = self.suite_methods()
        self.assertIn("action_reprocess", methods.get("heeros.link.message", ()), "the sweep finds the suite")
        self.authenticate(login, password)
        context = self.hostile_context(user)
        before = self.snapshot()
        calls = 0
        for model_name, names in methods.items():
            for record in self.targets(model_name):
                for name in sorted(names):
                    for button in (False, True):
                        result, error = self.rpc(model_name, name, [record.ids], context=context, button=button)
                        calls += 1
                        answer = json.dumps([result, error], default=str)
                        self.assertNotIn("PAYROLL", answer, f"{model_name}.{name} leaked a file")
                        self.assertNotIn(SECRET_PASSWORD, answer, f"{model_name}.{name} leaked a secret")
                        after = self.snapshot()
                        for key in ("archive", "files", "foreign states", "connections", "links"):
                            self.assertEqual(after[key], before[key], f"{model_name}.{name}: {key} changed")
                        own = [row for row in after["messages"] if row[2] == self.own.id]
                        own_before = [row for row in before["messages"] if row[2] == self.own.id]
                        self.assertEqual(own, own_before, f"{model_name}.{name}: a message's payload changed")
        self.assertGreater(calls, 50)
        self.assertFalse(self.archive_faults())
        self.assert_guard_on("sweep")

    def test_as_link_user(self):
        self.sweep("attack-user", "attack-user-pw", self.user)

    def test_as_link_manager(self):
        self.sweep("attack-manager", "attack-manager-pw", self.manager)
