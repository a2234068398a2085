"""matlab_bridge: rsa_mirror's RDMs and results to and from MATLAB (.mat), proven in GNU Octave.

- ``save_rdms`` / ``load_rdms``: rsatoolbox ``RDMs`` <-> the MATLAB RSA toolbox's struct
  array layout (``RDMs(i).RDM``, ``.name``, ``.color``), and what MATLAB users hold (3-D
  stacks, squareform vectors, cell arrays, either struct orientation, v7.3).
- ``save_results`` / ``load_results``: every result object of the package as nested structs
  with labelled dimensions, units and a version stamp.
- ``read_mat`` / ``write_mat``: the one .mat reader and writer of the packages (``neural_data`` and
  the stimulus loader read through it); cells come back as ``Cell``, keeping their shape.
- ``matlab/``: ``rsa_mirror_load.m`` and ``rsa_mirror_run.m`` for MATLAB and Octave users.
"""

from ._matfile import MatFormatError, read_mat, write_mat
from ._values import Cell
from .rdms import load_rdms, save_rdms
from .results import load_results, save_results

__all__ = ["Cell", "MatFormatError", "load_rdms", "load_results", "read_mat", "save_rdms", "save_results", "write_mat"]
