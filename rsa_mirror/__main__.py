"""``python -m rsa_mirror``: the ``rsa-mirror`` command line."""

import sys

from .cli.main import main

sys.exit(main())
