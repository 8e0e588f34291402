from . import link_upload
