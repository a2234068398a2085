"""Face-patch recordings in and out.

Load the Freiwald-Tsao layout, simulate populations with known tuning, hold them as
rsatoolbox Datasets.
"""

from .io import RecordingFormatError, load_freiwald_tsao
from .recordings import FIV_VIEWS, FIV_YAW_DEG, Recordings, StimulusLayout
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
