"""A real OpenSSH server on 127.0.0.1 for the SFTP tests.

Debian's ``openssh-server`` is started with a throw-away configuration: its
own host key, one authorised client key, the internal SFTP subsystem, a free
port on loopback. The server runs as the current user (root in CI, where
``.ci/link`` installs openssh-server); it is stopped when the test class ends.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"


def available():
    return os.path.exists(SSHD) and os.path.exists(SSH_KEYGEN)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def keygen(path, key_type="ed25519", passphrase=""):
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", key_type, "-N", passphrase, "-C", "heeros-link-test", "-f", str(path)], check=True
    )
    return Path(path).read_text(), Path(f"{path}.pub").read_text().strip()


class SshServer:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="heeros-link-sshd-"))
        self.port = _free_port()
        self.user = (
            os.environ.get("USER")
            or subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
        )
        self.host_private, self.host_public = keygen(self.dir / "host_ed25519")
        self.client_private, client_public = keygen(self.dir / "client_ed25519")
        (self.dir / "authorized_keys").write_text(client_public + "\n")
        os.chmod(self.dir / "authorized_keys", 0o600)
        self.root = self.dir / "files"
        self.root.mkdir()
        (self.dir / "sshd_config").write_text(f"""\
ListenAddress 127.0.0.1
Port {self.port}
HostKey {self.dir / "host_ed25519"}
PidFile {self.dir / "sshd.pid"}
AuthorizedKeysFile {self.dir / "authorized_keys"}
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
Subsystem sftp internal-sftp
LogLevel ERROR
""")
        self.process = None

    def start(self):
        Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory
        self.process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(self.dir / "sshd_config")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited: {self.process.stderr.read().decode()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    if sock.recv(64).startswith(b"SSH-"):
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("sshd did not answer within 10 seconds")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.process and self.process.stderr:
            self.process.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)
