"""What the figures share: layer axes with gaps for missing values, labelled reference lines, legends off the data.

Private helpers of the ``vis`` modules; they draw, they compute nothing an analysis returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure
    from matplotlib.legend import Legend
    from matplotlib.text import Text

NO_INDEX = "n/a: no index (all units silent)"
# Figure 6's caption: "reflection-sensitive (purple) and reflection-invariant (yellow)".
COMPONENT_COLORS = {"invariant": "#F2C500", "sensitive": "#7B3294"}


def chance_label(chance_level: float) -> str:
    """The legend text of the index of a view-invariant representation, naming its number of views.

    ``msvt_chance_level(n)`` is -1 / (n - 1), so n = 1 - 1 / chance; a value that is not of
    that form is named by its value only.
    """
    n_views = 1.0 - 1.0 / chance_level if chance_level < 0 else np.nan
    whole = np.isfinite(n_views) and abs(n_views - round(n_views)) < 1e-6
    return f"chance ({round(n_views)} views): {chance_level:.3f}" if whole else f"chance: {chance_level:.3f}"


def draw_chance(ax: Axes, chance_level: float | None, *, linestyle: str = "--") -> None:
    """A gray horizontal line at ``chance_level`` with its legend label; nothing when None."""
    if chance_level is not None:
        ax.axhline(chance_level, color="gray", linestyle=linestyle, linewidth=1, label=chance_label(chance_level))


def layer_axis(
    ax: Axes,
    layers: Sequence[Any],
    missing: Iterable[Any] = (),
    *,
    rotation: float = 45,
    fontsize: float = 7,
    note: str = NO_INDEX,
) -> None:
    """Ticks at 0..n-1 named by ``layers``; layers in ``missing`` read "<name> (n/a)" with a note.

    Args:
        ax: the Axes.
        layers: layer names in network order, one tick each (all kept: none is dropped for
            having no value).
        missing: the layers drawn as gaps (no value at all); noted in the lower left corner.
        rotation: of the tick labels, degrees.
        fontsize: of the tick labels.
        note: the words that explain "(n/a)".
    """
    gaps = set(missing)
    names = [f"{layer} (n/a)" if layer in gaps else str(layer) for layer in layers]
    ax.set_xticks(np.arange(len(layers)), names, rotation=rotation, ha="right" if rotation else "center")
    ax.tick_params(axis="x", labelsize=fontsize)
    ax.set_xlim(-0.5, len(layers) - 0.5)
    ax.set_xlabel("layer")
    if gaps:
        ax.text(0.01, 0.01, note, transform=ax.transAxes, fontsize=6, color="0.3", ha="left", va="bottom")


def missing_layers(values: npt.ArrayLike, layers: Sequence[Any]) -> list[Any]:
    """The layers whose every value in ``values`` (rows: layers; any columns) is NaN."""
    frame = np.asarray(values, dtype=float).reshape(len(layers), -1)
    return [layer for layer, row in zip(layers, frame, strict=True) if not np.isfinite(row).any()]


def legend_outside(
    ax: Axes,
    *,
    handles: Sequence[Any] | None = None,
    labels: Sequence[str] | None = None,
    fontsize: float = 7,
    ncol: int = 1,
    title: str | None = None,
) -> Legend:
    """The legend of ``ax`` to the right of the axes, off the data; returns it."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    elif labels is None:
        raise TypeError("legend_outside needs the labels of the handles it is given")
    unique = dict(zip(labels, handles, strict=True))
    return ax.legend(
        unique.values(),
        unique.keys(),
        fontsize=fontsize,
        ncol=ncol,
        title=title,
        title_fontsize=fontsize,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0.0,
        frameon=False,
    )


def panel_letter(target: Axes | Figure | SubFigure, letter: str, *, x: float = 0.0, y: float = 1.0) -> Text:
    """A bold panel letter (A, B, ...) at the upper left of an Axes or (sub)figure."""
    if hasattr(target, "transAxes"):
        return target.text(
            x - 0.02, y + 0.02, letter, transform=target.transAxes, fontsize=12, weight="bold", ha="right", va="bottom"
        )
    return target.text(
        0.005, 0.995, letter, fontsize=13, weight="bold", ha="left", va="top", transform=target.transSubfigure
    )
