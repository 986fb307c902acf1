"""The dump format, with no Django in it: read a captured page into a
``ParsedDump`` (``read_dump``), and write one back (``write_dump``)."""
