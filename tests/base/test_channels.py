"""Channels: local folder and SFTP against a real OpenSSH server."""

import os
import tempfile
import unittest
from pathlib import Path

from odoo.addons.heeros_link_base.channels import (
    ChannelAuthError,
    ChannelConfig,
    ChannelConfigError,
    HostKeyMismatch,
    open_channel,
)
from odoo.addons.heeros_link_base.channels.sftp import fetch_host_key

from .. import sshd
from .common import LinkCase


class TestLocalChannel(unittest.TestCase):
    def setUp(self):
        self.root = Path(tempfile.mkdtemp(prefix="heeros-link-local-"))
        self.addCleanup(lambda: __import__("shutil").rmtree(self.root, True))
        self.config = ChannelConfig(protocol="local", root=str(self.root))

    def test_list_download_confirm_move(self):
        inbox = self.root / "inbox"
        inbox.mkdir()
        (inbox / "b.xml").write_bytes(b"<b/>")
        (inbox / "a.xml").write_bytes(b"<a/>")
        (inbox / ".partial").write_bytes(b"hidden")
        with open_channel(self.config) as channel:
            files = channel.list()
            self.assertEqual([f.name for f in files], ["a.xml", "b.xml"])
            self.assertEqual(channel.download(files[0]), b"<a/>")
            channel.confirm(files[0])
            channel.confirm(files[0])  # a second confirmation is harmless
        self.assertFalse((inbox / "a.xml").exists())
        self.assertEqual((self.root / "archive" / "a.xml").read_bytes(), b"<a/>")

    def test_confirm_delete_and_name_clash_in_archive(self):
        (self.root / "archive").mkdir()
        (self.root / "archive" / "x.txt").write_text("old")
        (self.root / "inbox").mkdir()
        (self.root / "inbox" / "x.txt").write_text("new")
        with open_channel(self.config) as channel:
            channel.confirm(channel.list()[0])
        self.assertEqual((self.root / "archive" / "x.txt").read_text(), "old")
        self.assertEqual((self.root / "archive" / "x.1.txt").read_text(), "new")
        self.config.after_download = "delete"
        (self.root / "inbox" / "y.txt").write_text("y")
        with open_channel(self.config) as channel:
            channel.confirm(channel.list()[0])
        self.assertEqual(list((self.root / "inbox").iterdir()), [])
        self.assertFalse((self.root / "archive" / "y.txt").exists())

    def test_upload_is_atomic_and_checkable(self):
        with open_channel(self.config) as channel:
            self.assertFalse(channel.exists("pay.xml"))
            name = channel.upload("../../pay.xml", b"<Document/>")
            self.assertEqual(name, "pay.xml")
            self.assertTrue(channel.exists("pay.xml"))
        outbox = self.root / "outbox"
        self.assertEqual(sorted(os.listdir(outbox)), ["pay.xml"], "no temporary file may stay behind")
        self.assertEqual((outbox / "pay.xml").read_bytes(), b"<Document/>")

    def test_missing_root_is_a_configuration_error(self):
        with self.assertRaises(ChannelConfigError):
            open_channel(ChannelConfig(protocol="local")).list()
        with self.assertRaises(ChannelConfigError):
            open_channel(ChannelConfig(protocol="nope"))


@unittest.skipUnless(sshd.available(), "OpenSSH server not installed (bash .ci/link installs it)")
class TestSftpChannel(LinkCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = sshd.SshServer().start()
        cls.addClassCleanup(cls.server.stop)

    def sftp_config(self, **kwargs):
        root = self.server.root
        values = dict(
            protocol="sftp",
            host="127.0.0.1",
            port=self.server.port,
            username=self.server.user,
            private_key=self.server.client_private,
            host_key=self.server.host_public,
            inbox=str(root / "in"),
            outbox=str(root / "out"),
            archive=str(root / "done"),
            timeout=10,
        )
        values.update(kwargs)
        return ChannelConfig(**values)

    def test_round_trip_with_pinned_key(self):
        (self.server.root / "in").mkdir(exist_ok=True)
        (self.server.root / "in" / "statement.xml").write_bytes(b"<Document>1</Document>")
        with open_channel(self.sftp_config()) as channel:
            files = channel.list()
            self.assertEqual([f.name for f in files], ["statement.xml"])
            self.assertEqual(files[0].size, 22)
            self.assertEqual(channel.download(files[0]), b"<Document>1</Document>")
            channel.confirm(files[0])
            name = channel.upload("batch.xml", b"<pain/>" * 1000)
            self.assertTrue(channel.exists(name))
        self.assertEqual((self.server.root / "done" / "statement.xml").read_bytes(), b"<Document>1</Document>")
        self.assertEqual((self.server.root / "out" / "batch.xml").read_bytes(), b"<pain/>" * 1000)
        self.assertEqual([p.name for p in (self.server.root / "out").iterdir()], ["batch.xml"])

    def test_host_key_mismatch_refuses_before_authentication(self):
        _, other_public = sshd.keygen(Path(self.server.dir) / "impostor")
        with self.assertRaises(HostKeyMismatch) as caught:
            open_channel(self.sftp_config(host_key=other_public)).open()
        text = str(caught.exception)
        self.assertIn("does not match the pinned key", text)
        self.assertIn("SHA256:", text)

    def test_no_pinned_key_refused(self):
        with self.assertRaises(ChannelConfigError) as caught:
            open_channel(self.sftp_config(host_key="")).open()
        self.assertIn("no host key is pinned", str(caught.exception))

    def test_fetch_host_key_returns_the_servers_key(self):
        key, fp = fetch_host_key(self.sftp_config(host_key=""))
        self.assertEqual(key.split()[:2], self.server.host_public.split()[:2])
        self.assertTrue(fp.startswith("SHA256:"))

    def test_wrong_credentials(self):
        _, _ = sshd.keygen(Path(self.server.dir) / "stranger")
        stranger = (Path(self.server.dir) / "stranger").read_text()
        with self.assertRaises(ChannelAuthError):
            open_channel(self.sftp_config(private_key=stranger)).open()
        with self.assertRaises(ChannelAuthError):
            open_channel(self.sftp_config(private_key="", password="wrong")).open()

    def test_connection_fetch_through_sftp_stores_then_confirms(self):
        inbox = self.server.root / "in2"
        inbox.mkdir(exist_ok=True)
        (inbox / "one.txt").write_bytes(b"NOTE one")
        (inbox / "two.txt").write_bytes(b"NOTE two")
        connection = self.env["heeros.link.connection"].create(
            {
                "name": "SFTP test",
                "protocol": "sftp",
                "host": "127.0.0.1",
                "port": self.server.port,
                "username": self.server.user,
                "private_key": self.server.client_private,
                "host_key": self.server.host_public,
                "inbox_folder": str(inbox),
                "archive_folder": str(self.server.root / "done2"),
                "company_id": self.bureau.id,
                "company_ids": [(6, 0, self.bureau.ids)],
            }
        )
        with self.registered_type(lambda m: None):
            messages = connection._link_fetch()
            messages._link_process()
        self.assertEqual(sorted(messages.mapped("file_name")), ["one.txt", "two.txt"])
        self.assertEqual(set(messages.mapped("state")), {"processed"})
        self.assertEqual(list(inbox.iterdir()), [])
        self.assertEqual(sorted(p.name for p in (self.server.root / "done2").iterdir()), ["one.txt", "two.txt"])
        self.assertTrue(connection.last_fetch)
        self.assertEqual(connection.health, "ok")

    def test_connection_with_wrong_host_key_records_the_failure(self):
        _, other_public = sshd.keygen(Path(self.server.dir) / "impostor2")
        connection = self.env["heeros.link.connection"].create(
            {
                "name": "SFTP impostor",
                "protocol": "sftp",
                "host": "127.0.0.1",
                "port": self.server.port,
                "username": self.server.user,
                "private_key": self.server.client_private,
                "host_key": other_public,
                "company_id": self.bureau.id,
                "company_ids": [(6, 0, self.bureau.ids)],
            }
        )
        self.assertFalse(connection._link_fetch())
        self.assertEqual(connection.health, "error")
        self.assertIn("does not match the pinned key", connection.last_error)
        self.assertNotIn("PRIVATE KEY", connection.last_error)
