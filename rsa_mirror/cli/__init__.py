"""The ``rsa-mirror`` command line (``main``): parse, call one study, write its files."""

from .main import main

__all__ = ["main"]
