"""Transport channels (pure Python, no Odoo import).

Importing this package registers the built-in channels: ``local`` (a folder
on the Odoo server) and ``sftp`` (paramiko).
"""

from . import local, sftp
from .base import (
    Channel,
    ChannelAuthError,
    ChannelConfig,
    ChannelConfigError,
    ChannelError,
    HostKeyMismatch,
    RemoteFile,
    open_channel,
    protocols,
    register,
)
