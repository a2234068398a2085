"""Load recordings kept in the Freiwald-Tsao lab layout and compute the index per patch.

A folder holds neural_vecs_<PATCH>.mat files, each with `neural_vecs` (stimuli x neurons,
trial-averaged) and optionally `neural_trials` (stimuli x neurons x trials). The rows follow a
StimulusLayout: by default 25 FIV identities x views, view-major, views left profile, left
half profile, frontal, right half profile, right profile, up, down, back. Here the folder is
written from simulated data first; point FOLDER at your own files instead.
Run: python examples/load_lab_recordings.py [FOLDER]
"""

import sys
import tempfile

from neural_data import FIV_VIEWS, StimulusLayout, load_freiwald_tsao, simulate_face_patches
from rsa_mirror import msvt_by_object, summarize_msvt

if len(sys.argv) > 1:
    folder = sys.argv[1]
else:
    folder = simulate_face_patches(random_state=1).save(tempfile.mkdtemp())

# Say how your export orders its rows; this is the default, written out.
layout = StimulusLayout(n_identities=25, views=FIV_VIEWS, order="view-major")
recordings = load_freiwald_tsao(folder, layout=layout)
print(recordings)

# Files with 175 or 200 rows also hold up/down/back views: keep the views that have a mirror view.
recordings = recordings.mirror_views()
print(summarize_msvt(msvt_by_object(recordings, object_key="identity")).round(3))
