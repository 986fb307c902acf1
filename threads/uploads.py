"""Refuse oversized dump uploads while they stream in.

Django writes an upload to a temporary file before any form sees it, so a
size check in the form comes after the disk space is spent. This handler
skips a file as soon as it passes ``DUMP_UPLOAD_MAX_BYTES``: the rest of it
is read and thrown away, and the admin import reports it as refused.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


class DumpSizeLimitHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.DUMP_UPLOAD_MAX_BYTES:
            refused = getattr(self.request, "refused_uploads", [])
            self.request.refused_uploads = [*refused, self.file_name]
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None
