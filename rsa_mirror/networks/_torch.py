"""The torch boundary: torch and torchvision, or an error saying how to install them.

Imported first by ``rsa_mirror.networks``, so that anything that reaches the networks without
the ``[models]`` extra fails with ``pip install rsa_mirror[models]`` rather than a bare
``ModuleNotFoundError``.
"""

from .._utils import optional_import

torch = optional_import("torch", "rsa_mirror.networks")
torchvision = optional_import("torchvision", "rsa_mirror.networks")
