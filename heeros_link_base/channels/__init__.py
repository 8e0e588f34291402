"""Transport channels (pure Python, no Odoo import).

Importing this package registers the built-in channels: ``local`` (a folder
on the Odoo server), ``sftp`` (paramiko), ``bank_ws`` (the Finnish banks' Web
Services), ``maventa`` and ``apix`` (e-invoice operators' REST APIs).
"""

from . import apix, bank_ws, local, maventa, sftp
from .base import (
    Channel,
    ChannelAuthError,
    ChannelConfig,
    ChannelConfigError,
    ChannelError,
    HostKeyMismatch,
    RemoteFile,
    is_operator,
    open_channel,
    protocols,
    register,
)
