from . import link
