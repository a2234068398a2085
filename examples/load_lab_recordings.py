"""Load a lab's recordings, say which stimulus each row is, and compute the index per patch
========================================================================================

A folder holds neural_vecs_<PATCH>.mat files, each with `neural_vecs` (stimuli x neurons,
trial-averaged) and optionally `neural_trials` (stimuli x neurons x trials). Which identity and
view each row shows is stated once, here with a layout table (one row per recorded row:
identity, view); metadata vectors inside the files, or a grid (StimulusLayout), work too.
Here the folder is first written from simulated data the way a lab might export it: each
identity's views consecutive, identities numbered from 1, no metadata. Point FOLDER and TABLE
at your own files instead.
Run: python examples/load_lab_recordings.py [FOLDER TABLE]
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io

from neural_data import StimulusLayout, load_freiwald_tsao, simulate_face_patches
from rsa_mirror.studies import patch_study

if len(sys.argv) > 2:
    folder, table = sys.argv[1], sys.argv[2]
else:
    simulated = simulate_face_patches(random_state=1)
    rows = simulated["AL"].obs_descriptors
    order = np.lexsort((rows["view_deg"], rows["identity"]))  # identity-major
    folder = Path(tempfile.mkdtemp())
    for patch, dataset in simulated.items():
        scipy.io.savemat(folder / f"neural_vecs_{patch}.mat", {"neural_vecs": dataset.measurements[order]})
    table = folder / "rows.csv"
    pd.DataFrame({"identity": rows["identity"][order] + 1, "view": rows["view"][order]}).to_csv(table, index=False)

recordings = load_freiwald_tsao(folder, layout=StimulusLayout.from_table(table))
print(recordings)
print("layout:", recordings.layout.describe())

result = patch_study(recordings)  # RDMs over every row; the index leaves out (and names) views without a mirror view
print(result.summary.round(3))
