"""Command-line arguments the gallery gives each example while the docs are built.

The examples write their figures to the path in ``sys.argv[1]``; during the build that is a
temporary folder, so the build writes nothing into ``examples/``. The gallery shows the figures
the examples leave open.
"""

import tempfile
from pathlib import Path

_OUT = Path(tempfile.mkdtemp(prefix="rsa_mirror_gallery_"))


def example_argv(gallery_conf, script_vars):
    """Arguments for one example: its output path (a ``.png``, or a folder for Figures 4 and 5)."""
    name = Path(script_vars["src_file"]).stem
    if name == "load_lab_recordings":
        return []  # writes its simulated files to a temporary folder of its own
    if name == "figure4_control_networks":
        return ["--out", str(_OUT / name)]
    if name == "figure5_importance":
        return [str(_OUT / name)]
    return [str(_OUT / f"{name}.png")]
