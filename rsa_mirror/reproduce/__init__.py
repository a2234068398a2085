"""The whole paper in one call: ``reproduce(profile, out)`` (``rsa-mirror reproduce``).

``profiles`` holds each step's settings at three scales, ``steps`` the steps (one per figure
and supplement, each calling the package's study functions), ``runner`` runs them as cached,
resumable tasks and writes ``manifest.json``, ``report`` writes the self-contained
``report.html``.
"""

from .._utils import lazy_exports as _lazy_exports

_LAZY = {
    "PROFILES": ".profiles",
    "profile_settings": ".profiles",
    "STEPS": ".registry",
    "Step": ".registry",
    "ReproduceResult": ".runner",
    "reproduce": ".runner",
}
__getattr__, __dir__ = _lazy_exports(__name__, _LAZY)

__all__ = ["PROFILES", "STEPS", "ReproduceResult", "Step", "profile_settings", "reproduce"]
