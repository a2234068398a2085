"""Write ``docs/_static/patch_rdms.png``, the figure of the README and the documentation's front page.

The three simulated face patches of the default study (seed 0): their 125 x 125 RDMs ordered by
view, with the mirror-symmetric viewpoint tuning index of each patch in its title (what
``rsa-mirror demo`` writes as ``patch_rdms.png``, at a smaller size). Run: python docs/make_readme_figure.py
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from neural_data import simulate_face_patches  # noqa: E402
from rsa_mirror.studies import patch_study  # noqa: E402
from rsa_mirror.vis import plot_rdms  # noqa: E402

OUT = Path(__file__).resolve().parent / "_static" / "patch_rdms.png"

result = patch_study(simulate_face_patches(random_state=0))
titles = [f"{patch}: MSVT {row.msvt_mean:.2f} ± {row.msvt_sem:.3f}" for patch, row in result.summary.iterrows()]
plot_rdms(result.rdms, titles=titles).savefig(OUT, dpi=80)
print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KB)")
