from . import api, main, messages
