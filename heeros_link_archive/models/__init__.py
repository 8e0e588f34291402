from . import archive_entry, archive_records
