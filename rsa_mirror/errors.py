"""The exceptions rsa_mirror raises on purpose, each with a message naming what is wrong.

Every class derives from ``RsaMirrorError`` and from the built-in exception it refines, so
``except ValueError`` keeps working. The command line prints these as one line and exits 2;
any other exception is a bug and says so.

- ``InvalidArgumentError`` (ValueError): an argument the function cannot use; the message
  names the argument, what is allowed and what was received.
- ``InvalidTypeError`` (TypeError): an argument of the wrong type.
- ``DataError`` (ValueError): data that cannot be analysed as given (NaN, overflow, too few
  stimuli or units, descriptors that do not match).
- ``FileFormatError`` (ValueError): a file that cannot be read right; the message names the
  file and the problem (``neural_data.RecordingFormatError`` and
  ``matlab_bridge.MatFormatError`` refine it).
- ``MissingDependencyError`` (ImportError): an optional dependency that is not installed; the
  message says which extra installs it (``pip install rsa_mirror[models]``).
- ``WeightsUnavailableError`` (FileNotFoundError, in ``rsa_mirror.networks.models``): network
  weights that are not on this machine.
"""


class RsaMirrorError(Exception):
    """Base of every error rsa_mirror raises on purpose."""


class InvalidArgumentError(RsaMirrorError, ValueError):
    """An argument value the function cannot use."""


class InvalidTypeError(RsaMirrorError, TypeError):
    """An argument of a type the function does not take."""


class DataError(RsaMirrorError, ValueError):
    """Data that cannot be analysed as given."""


class FileFormatError(RsaMirrorError, ValueError):
    """A file that cannot be read right; the message names the file."""


class MissingDependencyError(RsaMirrorError, ImportError):
    """An optional dependency that is not installed; the message names the extra that installs it."""
