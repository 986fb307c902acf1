"""The one error every stage of reading a dump raises."""


class DumpError(ValueError):
    """A dump that does not follow the format, with the line that breaks it.

    Lines are counted in the file as it was given, whatever a stage before
    the parser stripped or repaired, so an operator can open it there.
    """

    def __init__(self, line, message, source="<dump>"):
        super().__init__(message)
        self.line = line
        self.message = message
        self.source = source

    def __str__(self):
        return f"{self.source}:{self.line}: {self.message}"
