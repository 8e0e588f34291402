from . import api, messages
