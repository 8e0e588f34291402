"""Connections cannot be turned against their own secrets or the server's
files: endpoint changes by Link managers, host-key pinning, local folders
outside the folder root, hostile file names on fetch and send."""

import os
import shutil
import tempfile
import unittest
import uuid
from pathlib import Path

from odoo.addons.heeros_link_base.channels import ChannelConfig, open_channel
from odoo.addons.heeros_link_base.channels.names import is_safe_name
from odoo.exceptions import AccessError, ValidationError
from odoo.tests.common import new_test_user
from odoo.tools import SQL

from .. import sshd
from .common import LinkCase

SECRETS = {"password": "s3cret-pw", "private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n", "passphrase": "pp"}


def manager_env(case, user):
    return case.env(user=user, context=dict(case.env.context, allowed_company_ids=user.company_ids.ids))


@unittest.skipUnless(sshd.available(), "OpenSSH server not installed (bash .ci/link installs it)")
class TestEndpointChange(LinkCase):
    """A Link manager points an SFTP connection at a server he controls."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = sshd.SshServer().start()  # the attacker's server
        cls.addClassCleanup(cls.server.stop)
        cls.admin = cls.env.ref("base.user_admin")
        cls.admin.company_ids |= cls.bureau

    def setUp(self):
        super().setUp()
        # the bank's server, configured by an administrator; the attacker's
        # server presents the same host key, so that only the credentials
        # would be missing for the attack to work
        self.sftp = self.env["heeros.link.connection"].create(
            {
                "name": "Bank SFTP",
                "protocol": "sftp",
                "host": "192.0.2.10",
                "port": 22,
                "username": self.server.user,
                "password": "bank-password",
                "private_key": self.server.client_private,
                "host_key": self.server.host_public,
                "inbox_folder": str(self.server.root),
                "company_id": self.bureau.id,
                "company_ids": [(6, 0, self.bureau.ids)],
            }
        )
        self.as_manager = self.sftp.with_env(manager_env(self, self.user_bureau))

    def assert_no_secrets(self, connection):
        stored = connection.sudo()
        for field in ("password", "private_key", "passphrase"):
            self.assertFalse(stored[field], field)
        config = connection._channel_config()
        self.assertEqual((config.password, config.private_key, config.passphrase), ("", "", ""))

    def test_manager_moving_the_host_clears_the_credentials(self):
        self.as_manager.write({"host": "127.0.0.1", "port": self.server.port})
        self.assert_no_secrets(self.sftp)
        self.assertFalse(self.sftp.has_credentials)
        note = self.sftp.message_ids.filtered(lambda m: "credentials were cleared" in (m.body or ""))
        self.assertTrue(note, "the chatter says the credentials were cleared")
        self.assertIn("administrator must enter them again", note[0].body)
        self.assertEqual(note[0].author_id, self.user_bureau.partner_id)
        self.assertNotIn("bank-password", " ".join(self.sftp.message_ids.mapped("body")))
        # the attacker's server is reached, but receives no credential
        self.as_manager.action_test_connection()
        self.assertEqual(self.sftp.health, "error")
        self.assertIn("neither a private key nor a password", self.sftp.last_error)

    def test_every_endpoint_field_counts_and_sudo_does_not_help(self):
        for vals in ({"port": 2222}, {"username": "attacker"}, {"protocol": "local", "inbox_folder": "inbox"}):
            with self.subTest(vals=vals):
                self.sftp.write(dict(SECRETS))
                self.sftp.write(
                    {
                        "host": "192.0.2.10",
                        "port": 22,
                        "username": self.server.user,
                        "protocol": "sftp",
                        "inbox_folder": str(self.server.root),
                    }
                )
                self.assertTrue(self.sftp.has_credentials)
                # suite code writing on a manager's behalf under sudo() is still the manager
                self.as_manager.sudo().write(vals)
                self.assert_no_secrets(self.sftp)

    def test_someone_who_may_not_change_it_clears_nothing(self):
        self.sftp.company_ids |= self.client_b
        as_user = self.sftp.with_env(manager_env(self, self.user_b))
        self.assertEqual(as_user.name, "Bank SFTP", "a Link user of a served company sees it")
        with self.assertRaises(AccessError):
            as_user.write({"host": "127.0.0.1"})
        self.assertEqual(self.sftp.sudo().password, "bank-password")

    def test_same_values_or_other_fields_keep_the_credentials(self):
        self.as_manager.write(
            {
                "host": "192.0.2.10",
                "port": 22,
                "name": "Bank SFTP (renamed)",
                "inbox_folder": "in",
                "timeout": 20,
                "username": self.server.user,
            }
        )
        self.assertEqual(self.sftp.sudo().password, "bank-password")

    def test_administrator_may_move_the_connection_with_its_credentials(self):
        self.sftp.with_user(self.admin).write({"host": "127.0.0.1", "port": self.server.port})
        self.assertEqual(self.sftp.sudo().password, "bank-password")
        result = self.sftp.with_user(self.admin).action_test_connection()
        self.assertEqual(result["params"]["type"], "success", result["params"]["message"])

    def test_manager_cannot_pin_a_host_key(self):
        _, other_public = sshd.keygen(Path(self.server.dir) / "attacker-host")
        with self.assertRaises(AccessError) as caught:
            self.as_manager.write({"host_key": other_public})
        self.assertIn("Only a system administrator can pin", str(caught.exception))
        with self.assertRaises(AccessError):
            self.as_manager.sudo().write({"host_key": False})
        self.as_manager.write({"host": "127.0.0.1", "port": self.server.port})
        with self.assertRaises(AccessError):
            self.as_manager.action_fetch_host_key()
        self.assertEqual(self.sftp.host_key, self.server.host_public)

    def test_administrator_pins_and_the_chatter_says_who_and_what(self):
        self.sftp.write({"host": "127.0.0.1", "port": self.server.port, "host_key": False})
        self.sftp.with_user(self.admin).action_fetch_host_key()
        self.assertEqual(self.sftp.host_key.split()[:2], self.server.host_public.split()[:2])
        note = self.sftp.message_ids.filtered(lambda m: "Host key pinned by" in (m.body or ""))[:1]
        self.assertIn(self.sftp.host_key_fingerprint, note.body)
        self.assertIn(self.admin.name, note.body)

    def test_manager_cannot_create_or_copy_his_way_to_the_secrets(self):
        Connection = self.env["heeros.link.connection"].with_env(manager_env(self, self.user_bureau))
        with self.assertRaises(AccessError):
            Connection.create(
                {
                    "name": "Mine",
                    "protocol": "sftp",
                    "host": "127.0.0.1",
                    "port": self.server.port,
                    "username": self.server.user,
                    "host_key": self.server.host_public,
                    "company_id": self.bureau.id,
                    "company_ids": [(6, 0, self.bureau.ids)],
                }
            )
        with self.assertRaises(AccessError):
            Connection.sudo().create(
                {
                    "name": "Mine",
                    "protocol": "sftp",
                    "password": "guess",
                    "company_id": self.bureau.id,
                    "company_ids": [(6, 0, self.bureau.ids)],
                }
            )
        copy = self.as_manager.copy({"host": "127.0.0.1", "port": self.server.port})
        self.assert_no_secrets(copy)
        self.assertFalse(copy.host_key, "a copy is pinned again by an administrator")
        copy.action_test_connection()
        self.assertEqual(copy.health, "error")
        self.assertEqual(self.sftp.sudo().password, "bank-password", "the original keeps its credentials")


class TestLocalFolderRoot(LinkCase):
    """A Link manager points a local-folder connection at the server's files."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.outside = Path(tempfile.mkdtemp(prefix="heeros-link-outside-"))
        cls.addClassCleanup(shutil.rmtree, cls.outside, True)
        cls.root = cls.env["heeros.link.connection"]._link_local_folder_root()

    def setUp(self):
        super().setUp()
        (self.outside / "shadow").write_text("root only")
        self.as_manager = self.connection.with_env(manager_env(self, self.user_bureau))

    def assert_outside_untouched(self):
        self.assertEqual(sorted(os.listdir(self.outside)), ["shadow"])
        self.assertEqual((self.outside / "shadow").read_text(), "root only")

    def force(self, **vals):
        """Store values as an older version may have left them, past the constraint."""
        for name, value in vals.items():
            self.env.cr.execute(
                SQL(
                    "UPDATE heeros_link_connection SET %s = %s WHERE id = %s",
                    SQL.identifier(name),
                    value,
                    self.connection.id,
                )
            )
        self.env.invalidate_all()

    def test_root_is_the_system_parameter_else_under_the_data_directory(self):
        self.assertTrue(self.connection.sudo().local_root.startswith(self.root))
        self.env["ir.config_parameter"].set_param("heeros_link.local_folder_root", False)
        default = self.env["heeros.link.connection"]._link_local_folder_root()
        from odoo.tools import config

        self.assertEqual(
            default, os.path.realpath(os.path.join(config["data_dir"], "heeros_link_folders", self.env.cr.dbname))
        )

    def test_absolute_inbox_is_refused(self):
        with self.assertRaises(ValidationError) as caught:
            self.as_manager.write({"inbox_folder": str(self.outside)})
        self.assertIn("absolute path", str(caught.exception))
        self.assertIn("inbox folder", str(caught.exception))

    def test_climbing_outbox_is_refused(self):
        with self.assertRaises(ValidationError) as caught:
            self.as_manager.write({"outbox_folder": "../../tmp"})
        self.assertIn("climbs out", str(caught.exception))

    def test_folder_outside_the_root_is_refused_even_for_administrators(self):
        for value in (str(self.outside), "../" * 12 + str(self.outside).lstrip("/")):
            with self.subTest(value=value), self.assertRaises(ValidationError) as caught:
                self.connection.write({"local_root": value})
            self.assertIn("outside the allowed folder", str(caught.exception))
        self.connection.write({"local_root": "bureau/statements"})  # relative to the root
        self.assertEqual(self.connection._channel_config().root, "bureau/statements")

    def test_fetch_now_does_not_read_files_outside(self):
        self.force(inbox_folder=str(self.outside))
        self.as_manager.action_fetch_now()
        self.assertEqual(self.Message.search([("file_name", "=", "shadow")]).ids, [])
        self.assertIn("absolute path", self.connection.last_error)
        self.assert_outside_untouched()

    def test_retry_does_not_write_outside(self):
        relative = os.path.relpath(self.outside, self.connection.sudo().local_root)
        self.force(outbox_folder=relative)
        message = self.Message._link_queue("test.out", "evil.sh", b"#!/bin/sh", self.bureau, connection=self.connection)
        message.with_env(manager_env(self, self.user_bureau))._link_send()
        self.assertNotEqual(message.state, "sent")
        self.assertIn("climbs out", message.error)
        self.assert_outside_untouched()

    def test_symlink_inside_the_root_pointing_out_is_refused_at_use(self):
        inbox = Path(self.connection.sudo().local_root) / "inbox"
        shutil.rmtree(inbox, ignore_errors=True)
        inbox.symlink_to(self.outside, target_is_directory=True)
        self.connection._link_fetch()
        self.assertIn("outside the allowed folder", self.connection.last_error)
        self.assertFalse(self.Message.search([("file_name", "=", "shadow")]))
        self.assert_outside_untouched()

    def test_hostile_names_in_the_inbox_and_in_uploads(self):
        inbox = Path(self.connection.sudo().local_root) / "inbox"
        inbox.mkdir(exist_ok=True)
        (inbox / "line\nbreak.txt").write_bytes(b"NOTE odd")
        with self.registered_type(lambda m: None):
            fetched = self.connection._link_fetch()
        self.assertEqual(fetched.file_name, "line\nbreak.txt", "people see the name as it came")
        archived = os.listdir(Path(self.connection.sudo().local_root) / "archive")
        self.assertEqual(archived, ["line_break.txt"])
        escape = f"heeros-link-escape-{uuid.uuid4().hex}"
        message = self.Message._link_queue(
            "test.out", f"../../{escape}", b"<x/>", self.bureau, connection=self.connection
        )
        message._link_send()
        self.assertEqual(message.state, "sent")
        self.assertTrue(is_safe_name(message.remote_name))
        outbox = Path(self.connection.sudo().local_root) / "outbox"
        self.assertEqual((outbox / message.remote_name).read_bytes(), b"<x/>")
        self.assertFalse((Path(self.connection.sudo().local_root).parent.parent / escape).exists())


class TestDemoAndChannelConfig(LinkCase):
    def test_channel_config_carries_the_root_limit(self):
        config = self.connection._channel_config()
        self.assertEqual(config.allowed_root, self.env["heeros.link.connection"]._link_local_folder_root())
        self.assertIsInstance(config, ChannelConfig)
        with open_channel(config) as channel:
            self.assertIn("file(s) waiting", channel.test())

    def test_a_new_manager_cannot_see_or_set_the_folder(self):
        manager = new_test_user(
            self.env,
            "folder-manager",
            groups="heeros_link_base.group_link_manager",
            company_id=self.bureau.id,
            company_ids=[(6, 0, self.bureau.ids)],
        )
        with self.assertRaises(AccessError):
            self.connection.with_env(manager_env(self, manager)).write({"local_root": "elsewhere"})

    def test_demo_seed_puts_its_folders_inside_the_root(self):
        connection = self.env["heeros.link.connection"].create(
            {
                "name": "Demo folder",
                "protocol": "local",
                "company_id": self.bureau.id,
                "company_ids": [(6, 0, self.bureau.ids)],
            }
        )
        self.env["ir.model.data"].create(
            {
                "module": "heeros_link_base",
                "name": "test_demo_folder",
                "model": connection._name,
                "res_id": connection.id,
            }
        )
        fetched = connection._link_demo_seed({"heeros_link_base.test_demo_folder": "heeros_link_bank/demo/inbox/kivi"})
        self.assertTrue(fetched)
        self.assertEqual(connection.sudo().local_root, f"demo/{connection.id}")
        folder = Path(connection._link_local_folder_root()) / "demo" / str(connection.id)
        self.assertTrue((folder / "archive").is_dir(), "the fetched files were archived inside the root")
        self.assertTrue(any((folder / "inbox").iterdir()), "the next file waits in the inbox")
