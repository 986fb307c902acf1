"""Import dumps: create the thread a dump shows, or merge it into that thread.

A dump has no ids, so everything is matched by content (docs/dump-format.md):
``identity`` says what names a thread and a comment, ``match`` finds each
parsed comment's stored counterpart, ``tree`` places new comments and moves
re-attached ones, ``store`` holds the one definition of the columns an
import writes, ``merge`` puts those together for one capture, and
``capture`` runs one file: its transaction, its thread and its report.
"""

from threads.importer.capture import ImportReport, import_dump, import_dump_file, import_or_refuse

__all__ = ["ImportReport", "import_dump", "import_dump_file", "import_or_refuse"]
