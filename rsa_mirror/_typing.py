"""Type aliases for the package's annotations: paths, random states, arrays and tensors.

Annotations only: the aliases are strings, so importing this module imports nothing (torch
least of all); the ``check_*`` helpers of ``_utils`` do the checking at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence
    from typing import Any

    import numpy as np
    import numpy.typing as npt
    import torch
    from matplotlib.axes import Axes

#: A file or folder: a ``str`` or any ``os.PathLike`` (``pathlib.Path``).
PathLike: TypeAlias = "str | os.PathLike[str]"

#: What every stochastic function takes as ``random_state``: None (fresh entropy), an integer
#: >= 0, a ``np.random.SeedSequence`` or a ``np.random.Generator``.
RandomState: TypeAlias = "int | np.integer[Any] | np.random.SeedSequence | np.random.Generator | None"

#: A float64 array (the package's numbers).
FloatArray: TypeAlias = "npt.NDArray[np.float64]"

#: An int64 array (indices, labels).
IntArray: TypeAlias = "npt.NDArray[np.int64]"

#: A boolean array (masks).
BoolArray: TypeAlias = "npt.NDArray[np.bool_]"

#: Matplotlib Axes to draw into: a sequence of ``matplotlib.axes.Axes`` or the object array of
#: ``plt.subplots``.
AxesSequence: TypeAlias = "Sequence[Axes] | npt.NDArray[Any]"

#: A ``torch.Tensor`` (for annotations of modules that import torch only when called).
Tensor: TypeAlias = "torch.Tensor"

__all__ = ["AxesSequence", "BoolArray", "FloatArray", "IntArray", "PathLike", "RandomState", "Tensor"]
