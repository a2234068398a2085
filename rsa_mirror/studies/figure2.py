"""Figure 2: mirror-symmetric viewpoint tuning across a network's layers, per object.

``msvt_study`` streams one stimulus set through each network (``model_view_rdms``: per-object
view RDMs of every layer without holding the activations) and takes every object's index
(``msvt_by_object``); ``MsvtResult`` holds the per-object tables and the view RDMs, and gives
them combined (one table, a ``network`` column), summarized per layer, or one network tested
against another per layer and category (``compare``: Figure 2-figure supplement 2B).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import InvalidArgumentError, InvalidTypeError
from ..networks.activations import model_view_rdms
from ..results import Result, rdms_from_plain, rdms_to_dict
from ..symmetry import compare_msvt, msvt_by_object, summarize_msvt

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..networks.models import LoadedModel
    from ..stimuli.base import StimulusSet


@dataclass(repr=False)
class MsvtResult(Result):
    """The index of every object in every layer, for each network.

    Attributes:
        tables: network label -> ``msvt_by_object`` table with a ``layer`` column.
        view_rdms: network label -> the per-object view RDMs (rsatoolbox ``RDMs``).
        weights: network label -> what its weights are (``LoadedModel.weights``).
    """

    tables: dict
    view_rdms: dict
    weights: dict

    def combined(self) -> pd.DataFrame:
        """All tables in one, with a ``network`` column (the labels)."""
        return pd.concat([t.assign(network=label) for label, t in self.tables.items()], ignore_index=True)

    def by_layer(self) -> dict:
        """Network label -> the index per layer, mean and SEM over objects (``summarize_msvt``)."""
        return {label: summarize_msvt(table, by=("layer",)) for label, table in self.tables.items()}

    def compare(self, first: str | None = None, second: str | None = None, **options: Any) -> pd.DataFrame:
        """One network's index against another's per layer and category (``compare_msvt``).

        Figure 2-figure supplement 2B: the trained network against the untrained one, a
        rank-sum test over exemplars in every layer x category cell, Benjamini-Hochberg FDR
        across the cells.

        Args:
            first: label of the first network (e.g. the trained one); both labels default to
                the two networks, in order, of a result of two.
            second: label of the other.
            **options: ``test``, ``alternative`` and ``alpha`` of ``compare_msvt``.

        Returns:
            ``compare_msvt``'s table, its cells named by ``layer`` and ``category``.

        Raises:
            InvalidArgumentError: one label given without the other, none given for a result of
                other than two networks, or a label that is not one of them.
        """
        labels = list(self.tables)
        if first is None and second is None and len(labels) == 2:
            first, second = labels
        elif first is None or second is None:
            raise InvalidArgumentError(
                f"Invalid value for 'first' and 'second': name both networks to compare, among {', '.join(labels)}"
            )
        for name, label in (("first", first), ("second", second)):
            if label not in self.tables:
                raise InvalidArgumentError(
                    f"Invalid value for {name!r}: expected one of {', '.join(labels)}, got {label!r}"
                )
        return compare_msvt(self.tables[first], self.tables[second], by=("layer", "category"), **options)

    def to_dict(self) -> dict:
        """The tables, the view RDMs as rsatoolbox's ``RDMs.to_dict()`` and the weights."""
        return {
            "tables": dict(self.tables),
            "view_rdms": {label: rdms_to_dict(rdms) for label, rdms in self.view_rdms.items()},
            "weights": dict(self.weights),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MsvtResult:
        """An ``MsvtResult`` from ``to_dict()``'s mapping (view RDMs rebuilt by rsatoolbox)."""
        data = dict(data)
        if isinstance(data.get("view_rdms"), dict):
            data["view_rdms"] = {label: rdms_from_plain(value) for label, value in data["view_rdms"].items()}
        return super().from_dict(data)

    def _title(self) -> str:
        return ", ".join(self.tables)


def msvt_study(
    networks: Mapping[str, LoadedModel],
    stimuli: StimulusSet,
    *,
    layers: str | Sequence[str] = "figure2",
    object_key: str = "object",
    device: str = "auto",
    batch_size: int = 32,
    verbose: bool = False,
) -> MsvtResult:
    """Each network's per-object index in each of its Figure 2 layers, on one stimulus set.

    Args:
        networks: mapping label -> ``LoadedModel`` (e.g. a trained network and its untrained
            twin), in the order of the figure's panels.
        stimuli: ``StimulusSet`` with ``object_key``, ``view_deg`` (mirror-paired views) and, for
            Figure 2's categories, ``category`` descriptors.
        layers: the layers of every network, as ``LoadedModel.resolve_layers`` takes them:
            ``"figure2"`` (default: Figure 2C's image, conv1, pool1, conv2, pool2, conv3, conv4,
            conv5, pool5, fc6, fc7, fc8 for AlexNet; every preset of other networks), ``"all"``
            (every preset), or a list of names.
        object_key: descriptor naming the object (``"identity"`` for faces).
        device: as in ``model_view_rdms``.
        batch_size: images per forward pass.
        verbose: progress bars.

    Returns:
        ``MsvtResult``.

    Raises:
        InvalidTypeError: ``networks`` is not a non-empty mapping; and as ``model_view_rdms``.
    """
    if not isinstance(networks, Mapping) or not networks:
        raise InvalidTypeError(
            f"Invalid type for 'networks': expected a non-empty mapping label -> LoadedModel, got {networks!r}"
        )
    tables, view_rdms, weights = {}, {}, {}
    options: dict[str, Any] = {"object_key": object_key, "device": device, "batch_size": batch_size, "verbose": verbose}
    for label, network in networks.items():
        view_rdms[label] = model_view_rdms(network, stimuli, layers, **options)
        tables[label] = msvt_by_object(view_rdms[label]).rename(columns={"name": "layer"})
        weights[label] = network.weights
    return MsvtResult(tables, view_rdms, weights)
