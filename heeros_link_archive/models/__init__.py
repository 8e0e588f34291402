from . import archive_entry
