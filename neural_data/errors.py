"""The one exception the recordings loaders raise for a file they cannot read right."""

from rsa_mirror.errors import FileFormatError


class RecordingFormatError(FileFormatError):
    """A recording file, variable or layout that cannot be read exactly; the message names all three."""
