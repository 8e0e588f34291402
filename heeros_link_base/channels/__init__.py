"""Transport channels (pure Python, no Odoo import).

Importing this package registers the built-in channels: ``local`` (a folder
on the Odoo server) and ``sftp`` (paramiko) and ``bank_ws`` (the Finnish banks' Web Services).
"""

from . import bank_ws, local, sftp
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
