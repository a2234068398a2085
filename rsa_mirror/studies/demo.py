"""The default study (``rsa-mirror demo``): face-patch recordings, rendered faces, AlexNet, Figure 6.

``demo_networks``
chooses the networks (AlexNet with ImageNet weights when cached, else an untrained AlexNet and
the shipped control network beside it); ``demo_study`` runs the whole default study on
recordings and the faces shown: the patch part (``patches.patch_study``), the index per layer of each network
(``figure2.msvt_study``) and the comparison of every layer with every patch
(``figure6.alignment_study``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ..results import Result
from .figure2 import MsvtResult, msvt_study
from .figure6 import AlignmentResult, alignment_study
from .patches import PatchResult, patch_study

if TYPE_CHECKING:
    from rsatoolbox.data import Dataset

    from .._typing import RandomState
    from ..networks.models import LoadedModel
    from ..stimuli.base import StimulusSet


def demo_networks(*, imagenet: bool = True, seed: int = 0) -> dict[str, LoadedModel]:
    """The demo's networks, label -> ``LoadedModel`` (needs torch: ``pip install rsa_mirror[models]``).

    With ``imagenet``: ``{"AlexNet": AlexNet with ImageNet weights}`` (from torchvision's cache);
    else an untrained AlexNet (LeCun normal, ``seed``) and, beside it, the shipped control
    network (trained on rendered symmetric categories), so that a trained network is still
    compared with an untrained one.
    """
    from ..networks.files import load_shipped_network
    from ..networks.models import load_model

    if imagenet:
        return {"AlexNet": load_model("alexnet", weights="imagenet")}
    return {
        "AlexNet": load_model("alexnet", weights="untrained", random_state=seed),
        "control network": load_shipped_network().loaded(),
    }


@dataclass(repr=False)
class DemoResult(Result):
    """The default study.

    Attributes:
        patches: ``PatchResult`` of every recorded row.
        layers: ``MsvtResult`` of the faces through each network (object = identity).
        alignment: ``AlignmentResult`` of the first network against the mirror-paired rows.
    """

    NESTED: ClassVar[dict[str, type[Result]]] = {
        "patches": PatchResult,
        "layers": MsvtResult,
        "alignment": AlignmentResult,
    }

    patches: PatchResult
    layers: MsvtResult
    alignment: AlignmentResult


def demo_study(
    recordings: Mapping[str, Dataset],
    faces: StimulusSet,
    networks: Mapping[str, LoadedModel],
    *,
    n_bootstrap: int = 1000,
    n_splits: int = 100,
    random_state: RandomState = 0,
    normalize: str = "none",
) -> DemoResult:
    """The default study on recordings and the faces shown.

    Args:
        recordings: mapping patch -> ``Dataset`` (``neural_data.Recordings``).
        faces: ``StimulusSet`` with ``identity`` and ``view_deg`` for the mirror-paired rows of
            the recordings (e.g. ``figure6.rendered_faces``).
        networks: label -> ``LoadedModel`` (``demo_networks``); the first is compared with the
            patches.
        n_bootstrap: stimulus resamples of the comparison.
        n_splits: neuron splits per noise ceiling.
        random_state: seed of the comparison.
        normalize: RDMs of the comparison, as in ``figure6.brain_alignment`` (default ``"none"``,
            plain 1 - Pearson, as the paper's Figure 6).

    Returns:
        ``DemoResult``.
    """
    paired = recordings.mirror_views() if hasattr(recordings, "mirror_views") else recordings
    layers = msvt_study(networks, faces, layers="all", object_key="identity")
    model = next(iter(networks.values()))
    options: dict[str, Any] = {
        "n_bootstrap": n_bootstrap,
        "n_splits": n_splits,
        "random_state": random_state,
        "normalize": normalize,
    }
    return DemoResult(patch_study(recordings), layers, alignment_study(paired, faces, model, **options))
