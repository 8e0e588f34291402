"""File names and folders of the channels: hostile names from remote servers
and folder settings that try to leave the connection's folder."""

import os
import shutil
import tempfile
import unittest
from pathlib import Path

from odoo.addons.heeros_link_base.channels import (
    ChannelConfig,
    ChannelConfigError,
    RemoteFile,
    open_channel,
)
from odoo.addons.heeros_link_base.channels.names import (
    MAX_NAME_BYTES,
    is_safe_name,
    relative_folder,
    safe_name,
)

from .. import sshd
from .common import LinkCase

HOSTILE_NAMES = [
    "../../x",
    "/etc/passwd",
    "..\\..\\boot.ini",
    "a\x00b.xml",
    "line\nbreak.xml",
    "tab\there.xml",
    "x" * 300 + ".xml",
    "ä" * 200 + ".xml",
    "...",
    "..",
    ".",
    "",
    " ",
    ".hidden.xml",
    "4/00000010-../../../../tmp/evil.xml",
    "C:\\Windows\\win.ini",
]


def assert_safe(case, name):
    case.assertTrue(name, "a safe name is never empty")
    case.assertNotIn("/", name)
    case.assertNotIn("\\", name)
    case.assertFalse(any(ord(c) < 32 or ord(c) == 127 for c in name), repr(name))
    case.assertFalse(name.startswith("."), repr(name))
    case.assertLessEqual(len(name.encode()), MAX_NAME_BYTES)
    case.assertTrue(is_safe_name(name), repr(name))


class TestSafeNames(unittest.TestCase):
    def test_every_hostile_name_becomes_one_plain_component(self):
        for name in HOSTILE_NAMES:
            with self.subTest(name=name):
                safe = safe_name(name)
                assert_safe(self, safe)
                self.assertFalse(is_safe_name(name), f"{name!r} must not pass as it is")

    def test_ordinary_names_are_kept(self):
        for name in ("statement.xml", "KTL_20240131.txt", "lasku 123 (kopio).xml", "Åbo-lasku.xml"):
            self.assertEqual(safe_name(name), name)
            self.assertTrue(is_safe_name(name))

    def test_what_is_kept_of_hostile_names(self):
        self.assertEqual(safe_name("../../x"), "x")
        self.assertEqual(safe_name("/etc/passwd"), "passwd")
        self.assertEqual(safe_name("line\nbreak.xml"), "line_break.xml")
        self.assertEqual(safe_name("..."), "document")
        long = safe_name("x" * 300 + ".xml")
        self.assertTrue(long.endswith(".xml"), "the extension survives truncation")
        self.assertEqual(len(long.encode()), MAX_NAME_BYTES)
        self.assertEqual(len(safe_name("ä" * 200 + ".xml").encode()) <= MAX_NAME_BYTES, True)

    def test_folder_settings_must_be_relative_and_never_climb(self):
        self.assertEqual(relative_folder("in/2024/", "inbox folder"), "in/2024")
        self.assertEqual(relative_folder("", "inbox folder"), "")
        for value, said in (
            ("/etc", "absolute path"),
            ("../../x", "climbs"),
            ("in/../../x", "climbs"),
            ("in\x00", "control characters"),
            ("C:\\temp", "absolute path"),
        ):
            with self.subTest(value=value), self.assertRaises(ChannelConfigError) as caught:
                relative_folder(value, "outbox folder")
            self.assertIn(said, str(caught.exception))
            self.assertIn("outbox folder", str(caught.exception))


class TestLocalChannelPaths(unittest.TestCase):
    def setUp(self):
        self.limit = Path(tempfile.mkdtemp(prefix="heeros-link-limit-"))
        self.outside = Path(tempfile.mkdtemp(prefix="heeros-link-outside-"))
        self.addCleanup(shutil.rmtree, self.limit, True)
        self.addCleanup(shutil.rmtree, self.outside, True)
        (self.outside / "secret.txt").write_text("root only")
        self.root = self.limit / "conn"
        self.root.mkdir()

    def config(self, **kwargs):
        values = dict(protocol="local", root="conn", allowed_root=str(self.limit))
        values.update(kwargs)
        return ChannelConfig(**values)

    def assert_refused(self, config, operation, said):
        with self.assertRaises(ChannelConfigError) as caught, open_channel(config) as channel:
            operation(channel)
        self.assertIn(said, str(caught.exception))
        self.assertEqual((self.outside / "secret.txt").read_text(), "root only", "the outside file stays")
        return str(caught.exception)

    def test_absolute_inbox_is_refused_at_use(self):
        text = self.assert_refused(self.config(inbox=str(self.outside)), lambda c: c.list(), "absolute path")
        self.assertIn("inbox folder", text)

    def test_climbing_outbox_is_refused_and_nothing_is_written(self):
        relative = os.path.relpath(self.outside, self.root)
        self.assert_refused(self.config(outbox=relative), lambda c: c.upload("evil.sh", b"x"), "climbs")
        self.assertEqual(sorted(os.listdir(self.outside)), ["secret.txt"])

    def test_symlinked_inbox_pointing_out_is_refused(self):
        (self.root / "inbox").symlink_to(self.outside, target_is_directory=True)
        text = self.assert_refused(self.config(), lambda c: c.list(), "outside the allowed folder")
        self.assertIn(os.path.realpath(self.outside), text)

    def test_symlinked_parent_is_refused_before_creating_anything(self):
        (self.root / "sub").symlink_to(self.outside, target_is_directory=True)
        self.assert_refused(
            self.config(archive="sub/archive", outbox="sub/new"),
            lambda c: c.upload("a.xml", b"x"),
            "outside the allowed folder",
        )
        self.assertEqual(sorted(os.listdir(self.outside)), ["secret.txt"], "no folder created outside")

    def test_connection_folder_outside_the_root_or_symlinked_out_is_refused(self):
        self.assert_refused(self.config(root=str(self.outside)), lambda c: c.list(), "outside the allowed folder")
        self.assert_refused(
            self.config(root="../" + self.outside.name), lambda c: c.list(), "outside the allowed folder"
        )
        (self.limit / "escape").symlink_to(self.outside, target_is_directory=True)
        self.assert_refused(self.config(root="escape"), lambda c: c.list(), "outside the allowed folder")

    def test_symlinked_file_in_the_inbox_is_not_read(self):
        inbox = self.root / "inbox"
        inbox.mkdir()
        (inbox / "statement.xml").symlink_to(self.outside / "secret.txt")
        (inbox / "real.xml").write_bytes(b"<a/>")
        with open_channel(self.config()) as channel:
            self.assertEqual([f.name for f in channel.list()], ["real.xml"])
            with self.assertRaises(Exception):  # noqa: B017 - O_NOFOLLOW refuses, whatever its errno
                channel.download(RemoteFile(name="statement.xml"))

    def test_hostile_remote_file_is_never_used_as_a_path(self):
        (self.root / "inbox").mkdir()
        hostile = RemoteFile(name="../../x", path=str(self.outside / "secret.txt"))
        with open_channel(self.config()) as channel:
            for operation in (channel.download, channel.confirm):
                with self.assertRaises(ChannelConfigError):
                    operation(hostile)
            # the path handed back is ignored: only the plain name in the inbox counts
            with self.assertRaises(Exception):  # noqa: B017 - missing file
                channel.download(RemoteFile(name="secret.txt", path=str(self.outside / "secret.txt")))
        self.assertEqual((self.outside / "secret.txt").read_text(), "root only")

    def test_upload_names_are_made_safe_inside_the_outbox(self):
        with open_channel(self.config()) as channel:
            for name in HOSTILE_NAMES:
                remote = channel.upload(name, b"data")
                assert_safe(self, remote)
                self.assertTrue(channel.exists(name))
        outbox = self.root / "outbox"
        self.assertTrue(all(p.parent == outbox for p in outbox.iterdir()))
        self.assertEqual(sorted(os.listdir(self.outside)), ["secret.txt"])
        self.assertFalse((self.limit / "x").exists())

    def test_strange_names_in_the_inbox_are_archived_under_safe_names(self):
        inbox = self.root / "inbox"
        inbox.mkdir()
        odd = ["line\nbreak.xml", "y" * 250 + ".xml", "tab\t.xml"]
        for name in odd:
            (inbox / name).write_bytes(b"<a/>")
        with open_channel(self.config()) as channel:
            files = channel.list()
            self.assertEqual(sorted(f.name for f in files), sorted(odd), "listed with their own names")
            for remote in files:
                channel.confirm(remote)
        archived = os.listdir(self.root / "archive")
        self.assertEqual(len(archived), 3)
        for name in archived:
            assert_safe(self, name)


@unittest.skipUnless(sshd.available(), "OpenSSH server not installed (bash .ci/link installs it)")
class TestSftpChannelNames(LinkCase):
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
            inbox=str(root / "in" / "deep"),
            outbox=str(root / "out" / "deep"),
            archive=str(root / "done"),
            timeout=10,
        )
        values.update(kwargs)
        return ChannelConfig(**values)

    def test_upload_of_a_climbing_name_stays_in_the_outbox(self):
        (self.server.root / "out" / "deep").mkdir(parents=True, exist_ok=True)
        with open_channel(self.sftp_config()) as channel:
            name = channel.upload("../../x", b"payload")
            self.assertEqual(name, "x")
            self.assertTrue(channel.exists("../../x"))
        self.assertEqual((self.server.root / "out" / "deep" / "x").read_bytes(), b"payload")
        self.assertFalse((self.server.root / "x").exists())

    def test_a_climbing_name_from_the_listing_is_never_moved(self):
        inbox = self.server.root / "in" / "deep"
        inbox.mkdir(parents=True, exist_ok=True)
        victim = self.server.root / "victim"
        victim.write_bytes(b"not yours")
        with open_channel(self.sftp_config()) as channel:
            for operation in (channel.download, channel.confirm):
                with self.assertRaises(ChannelConfigError):
                    operation(RemoteFile(name="../../victim", path=str(victim)))
        self.assertEqual(victim.read_bytes(), b"not yours")
        self.assertFalse((self.server.root / "done").exists())

    def test_strange_names_are_archived_under_safe_names(self):
        inbox = self.server.root / "in" / "deep"
        inbox.mkdir(parents=True, exist_ok=True)
        (inbox / "line\nbreak.xml").write_bytes(b"<a/>")
        with open_channel(self.sftp_config()) as channel:
            files = channel.list()
            self.assertEqual([f.name for f in files], ["line\nbreak.xml"])
            self.assertEqual(channel.download(files[0]), b"<a/>")
            channel.confirm(files[0])
        self.assertEqual(os.listdir(self.server.root / "done"), ["line_break.xml"])
