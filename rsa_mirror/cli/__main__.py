"""``python -m rsa_mirror.cli``: the ``rsa-mirror`` command line."""

import sys

from .main import main

sys.exit(main())
