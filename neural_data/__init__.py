"""Face-patch recordings in and out.

Load the Freiwald-Tsao layout (any .mat version, plain HDF5, a folder or one file), state
which stimulus each row shows, simulate populations with known tuning, and hold them as
rsatoolbox Datasets.
"""

from .errors import RecordingFormatError
from .io import load_freiwald_tsao
from .layout import FIV_VIEWS, FIV_YAW_DEG, StimulusLayout
from .recordings import Recordings
from .simulate import simulate_face_patches

__all__ = [
    "FIV_VIEWS",
    "FIV_YAW_DEG",
    "RecordingFormatError",
    "Recordings",
    "StimulusLayout",
    "load_freiwald_tsao",
    "simulate_face_patches",
]
