"""The registry of ``rsa-mirror reproduce``: every step in report order, its heading, the paper's finding, its inputs.

``STEPS`` maps a step's name to its ``Step``; ``steps`` holds the functions. Another step (a
new supplement, say) is one more entry, ``Step(name, title, finding, run, inputs)``, placed
where its section belongs, with its settings under the same name in ``profiles._profile`` (the
profiles give the order of ``--steps``; a test checks the two agree). A step's
``run(settings, out, context)`` writes its files into ``out`` and returns its caption (see
``steps``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .steps import (
    SupplementStep,
    run_figure2,
    run_figure3,
    run_figure4,
    run_figure4_grid,
    run_figure5,
    run_figure6,
    run_projection_symmetry,
    run_recovery,
)


@dataclass(frozen=True)
class Step:
    """One step of the reproduction.

    Attributes:
        name: the step's name (``--steps``, folder ``steps/<name>-<key>``).
        title: the report section's heading (the paper's figure number).
        finding: the paper's corresponding result, quoted or paraphrased with its figure.
        run: callable(settings, out, context) -> caption dict (module docstring).
        inputs: names of the input files (``runner.INPUT_FILES``) whose hashes enter the key.
    """

    name: str
    title: str
    finding: str
    run: Callable[[dict[str, Any], Path, dict[str, Any]], dict[str, Any]] = field(repr=False)
    inputs: tuple[str, ...] = ()


def _paper(text: str) -> str:
    return " ".join(text.split())


STEPS = {
    step.name: step
    for step in (
        Step("figure2", "Figure 2: mirror-symmetric viewpoint tuning across layers",
             _paper("“Several categories—faces, chairs, airplanes, tools, and animals—elicited low (below 0.1) or "
                    "even negative mirror-symmetric viewpoint tuning values throughout the convolutional layers, "
                    "transitioning to considerably higher (above 0.6) values starting from the first fully connected "
                    "layer (fc6).” For an untrained AlexNet the index “remains relatively constant across the "
                    "layers” (Figure 2C; Figure 2—figure supplement 2)."),
             run_figure2, ("imagenet_weights", "control_network")),
        Step("projection_symmetry", "Figure 2—figure supplement 1: symmetry of the 2-D projections",
             _paper("Categories with high index in fully connected but not convolutional layers “have a single plane "
                    "of symmetry”; cars and boats have two, fruits and flowers none (Figure 2—figure supplement 1, "
                    "Figure 2D)."),
             run_projection_symmetry),
        Step("figure3", "Figure 3: reflection equivariance and invariance",
             _paper("“In an ImageNet-trained AlexNet, horizontal-reflection equivariance increased across "
                    "convolutional layers … invariance jumped from a low level in convolutional layers to a high "
                    "level in the fully connected layers and was highest for horizontal reflection”; for an untrained "
                    "AlexNet on noise “the invariance and equivariance measures were zero” (Figure 3A–F)."),
             run_figure3, ("imagenet_weights", "control_network")),
        Step("figure4", "Figure 4: training task and data set (control networks)",
             _paper("The CIFAR-10-trained network showed “a considerable level of mirror-symmetric viewpoint tuning "
                    "for faces in layers fc1 and fc2”; SVHN and asymSVHN networks showed low levels, symSVHN "
                    "reproduced CIFAR-10's (Figure 4B–C)."),
             run_figure4, ("control_network",)),
        Step("figure4_grid", "Figure 4 grid: object geometry x label regime (the analysis plan)",
             _paper("Not a figure of the paper: a test of its claim that “learning to discriminate among bilaterally "
                    "symmetric object categories induces reflection-equivariant intermediate representations” "
                    "(Figure 4), with chiral training objects, four label regimes and several seeds per cell, by the "
                    "plan written before any grid network trained (the documentation's Figure 4 plan)."),
             run_figure4_grid),
        Step("figure5", "Figure 5: local features drive mirror-symmetric tuning",
             _paper("“Across all threshold levels, the response to insertion images was more similar to the response "
                    "to unmodified images than the response to deletion images”, and “the shuffled images largely "
                    "preserved the units’ mirror-symmetric viewpoint tuning” (Figure 5C–D)."),
             run_figure5, ("imagenet_weights", "control_network")),
        Step("figure6", "Figure 6: alignment with the face patches",
             _paper("“MLMF was more aligned with the CNNs’ mid-level representation … The AL face patch showed its "
                    "highest representational alignment with the first fully connected layer … The AM face patch "
                    "aligned most with the fully connected layers” (Figure 6A–C). Here the patches are simulated, "
                    "not recorded."),
             run_figure6, ("imagenet_weights", "control_network", "face_mesh")),
        Step("pooling", "Figure 2—figure supplement 6: global average pooling",
             _paper("“replacing fc6 with spatial global average pooling … yields a representation with very similar "
                    "mirror-symmetric viewpoint tuning levels” (Figure 2—figure supplement 6)."),
             SupplementStep("pooling"), ("imagenet_weights", "control_network")),
        Step("normalization", "Figure 2—figure supplement 7: normalization of the units",
             _paper("“applying a dissimilarity measure that is invariant to the overall magnitude of the "
                    "representations did not alter the observed trends” (Figure 2—figure supplement 7)."),
             SupplementStep("normalization"), ("imagenet_weights", "control_network")),
        Step("shift", "Figure 2—figure supplement 8: shifted objects",
             _paper("“CNNs trained to discriminate among bilaterally symmetric categories develop mirror-symmetric "
                    "viewpoint tuning across the visual field” (Figure 2—figure supplement 8)."),
             SupplementStep("shift"), ("imagenet_weights", "control_network")),
        Step("equivariance_distribution", "Figure 3—figure supplement 1: distribution over images",
             _paper("The distribution of equivariance and invariance across test images (Figure 3—figure supplement "
                    "1) behind Figure 3's means."),
             SupplementStep("equivariance-distribution"), ("imagenet_weights", "control_network")),
        Step("category_invariance", "Figure 3—figure supplement 2: invariance per category",
             _paper("Horizontal-reflection invariance of the fully connected layers across object categories "
                    "(Figure 3—figure supplement 2)."),
             SupplementStep("category-invariance"), ("imagenet_weights", "control_network")),
        Step("weight_symmetry", "Figure 5—figure supplement 1: symmetry of the weights",
             _paper("“The fc6 layer learns highly symmetrical weight maps … compared to convolutional layers” "
                    "(Figure 5—figure supplement 1)."),
             SupplementStep("weight-symmetry"), ("imagenet_weights", "control_network")),
        Step("recovery", "Recovery: does the alignment find a known source layer?",
             _paper("Not in the paper: a check of Figure 6's machinery. A simulated patch read out from one layer "
                    "should be aligned best with that layer, well above chance at low noise."),
             run_recovery, ("imagenet_weights", "face_mesh")),
    )
}  # fmt: skip
