"""The one exception the recordings loaders raise for a file they cannot read right."""


class RecordingFormatError(ValueError):
    """A recording file, variable or layout that cannot be read exactly; the message names all three."""
