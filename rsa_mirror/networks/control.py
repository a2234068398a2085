"""The control network of Figure 4, in the paper's form and in the form of the authors' released code.

``ControlNet(n_classes, variant="paper")`` follows the paper's Methods: two 3 x 3 convolutions,
one 2 x 2 max-pool, two more convolutions, fully connected layers of 128, 256 and
``n_classes`` units, He-uniform weights and zero biases. ``variant="released"`` is the network
of the authors' notebooks (``figure4_*.ipynb``): the same max-pool applied a second time after
the fourth convolution (so fc1 reads 128 x 5 x 5 values), fc1 of 256 units, PyTorch's default
initialization (non-zero biases), and the logits read through a ReLU where the layer is
analysed (the notebooks rectify every layer they read, fc3 included; training uses the raw
logits). Both variants share module names, so a state dict tells which it is (fc1's shape).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from .._utils import check_count, check_option
from ..errors import InvalidArgumentError

CONTROL_VARIANTS = ("paper", "released")

# Shipped weights: the rendered-categories network (original labels, seed 0, the documented
# rendered schedule, the paper variant), trained by examples/figure4_control_networks.py on an H200;
# float16, 3.6 MB.
SHIPPED_NETWORK = Path(__file__).parent.parent / "weights" / "control_rendered.pt"
SHIPPED_SHA256 = "5aa0b244b8e4e85fab281ef8368b9207b67826596ac72d26eccfd34eb196e4f4"
# Layer name -> module path of the paper variant: ReLU outputs, and the logits.
CONTROL_LAYERS = {
    "conv1": "relu1",
    "conv2": "relu2",
    "conv3": "relu3",
    "conv4": "relu4",
    "fc1": "relu5",
    "fc2": "relu6",
    "fc3": "fc3",
}
_FC1_UNITS = {"paper": 128, "released": 256}
_FC1_INPUTS = {"paper": 128 * 10 * 10, "released": 128 * 5 * 5}  # 32 -> 30 -> 28 -> 14 -> 12 -> 10 (-> 5)


def control_layers(variant: str = "paper") -> dict[str, str]:
    """Layer name -> module path of a control network: ``CONTROL_LAYERS``, fc3 rectified for ``released``."""
    check_option("variant", variant, CONTROL_VARIANTS)
    return {**CONTROL_LAYERS, "fc3": "readout"} if variant == "released" else dict(CONTROL_LAYERS)


class ControlNet(torch.nn.Sequential):
    """The control network for 32 x 32 RGB input and ``n_classes`` outputs (the logits).

    Args:
        n_classes: output units (10, or 20 for asymSVHN).
        variant: ``"paper"`` (the Methods' text: one max-pool, fc1 of 128 units, He-uniform
            weights, zero biases; 1,776,810 parameters for 10 classes) or ``"released"`` (the
            authors' notebooks: a second max-pool after conv4, fc1 of 256 units, PyTorch's
            default initialization; 990,506 parameters for 10 classes). The released
            variant's ``readout`` module (a ReLU of the logits, what the notebooks analyse as
            fc3) is a side branch: ``forward`` returns the raw logits in both variants.

    Attributes:
        variant: as given.
        layers: layer name -> module path (``control_layers(variant)``).

    Raises:
        InvalidArgumentError: ``n_classes`` not a whole number >= 1, or an unknown variant.
    """

    def __init__(self, n_classes: int = 10, variant: str = "paper") -> None:
        n_classes = check_count("n_classes", n_classes)
        check_option("variant", variant, CONTROL_VARIANTS)
        features = [
            ("conv1", torch.nn.Conv2d(3, 32, 3)),
            ("relu1", torch.nn.ReLU()),
            ("bn1", torch.nn.BatchNorm2d(32)),
            ("conv2", torch.nn.Conv2d(32, 32, 3)),
            ("relu2", torch.nn.ReLU()),
            ("pool", torch.nn.MaxPool2d(2)),
            ("conv3", torch.nn.Conv2d(32, 64, 3)),
            ("relu3", torch.nn.ReLU()),
            ("bn2", torch.nn.BatchNorm2d(64)),
            ("conv4", torch.nn.Conv2d(64, 128, 3)),
            ("relu4", torch.nn.ReLU()),
        ]
        if variant == "released":
            features.append(("pool2", torch.nn.MaxPool2d(2)))
        units = _FC1_UNITS[variant]
        classifier = [
            ("flatten", torch.nn.Flatten()),
            ("fc1", torch.nn.Linear(_FC1_INPUTS[variant], units)),
            ("relu5", torch.nn.ReLU()),
            ("drop1", torch.nn.Dropout(0.5)),
            ("fc2", torch.nn.Linear(units, 256)),
            ("relu6", torch.nn.ReLU()),
            ("drop2", torch.nn.Dropout(0.5)),
            ("fc3", torch.nn.Linear(256, n_classes)),
        ]
        if variant == "released":
            classifier.append(("readout", torch.nn.ReLU()))
        super().__init__(OrderedDict(features + classifier))
        self.variant = variant
        self.layers = control_layers(variant)
        if variant == "paper":
            for module in self.modules():
                if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
                    torch.nn.init.kaiming_uniform_(module.weight, nonlinearity="relu")  # He-uniform: sqrt(6 / fan_in)
                    if module.bias is not None:
                        torch.nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logits (n, n_classes) of a batch (n, 3, 32, 32); ``readout`` sees them without altering them."""
        for name, module in self.named_children():
            if name != "readout":
                x = module(x)
        if self.variant == "released":
            self.get_submodule("readout")(
                x
            )  # not in place: its forward hooks see relu(logits), the output stays the logits
        return x


def control_net_from_state(state: Mapping[str, Any], variant: str | None = None) -> ControlNet:
    """A ``ControlNet`` (eval mode, float32) holding a state dict (tensors or arrays).

    Args:
        state: parameter name -> tensor or array.
        variant: ``"paper"`` or ``"released"``; None: told by the shape of ``fc1.weight``.

    Raises:
        InvalidArgumentError: no control network weights, weights of another variant than
            ``variant``, or a state dict that does not fit.
    """
    tensors = {k: torch.as_tensor(v) for k, v in state.items()}
    classes, fc1 = tensors.get("fc3.weight"), tensors.get("fc1.weight")
    if classes is None or classes.ndim != 2 or classes.shape[0] < 1:
        raise InvalidArgumentError("no control network weights (no 2-D 'fc3.weight')")
    found = next((v for v in CONTROL_VARIANTS if fc1 is not None and fc1.shape[-1] == _FC1_INPUTS[v]), None)
    if variant is not None:
        check_option("variant", variant, CONTROL_VARIANTS)
        if found is not None and found != variant:
            raise InvalidArgumentError(
                f"the weights are those of the {found} variant (fc1 reads {_FC1_INPUTS[found]} values), not {variant}"
            )
    network = ControlNet(classes.shape[0], variant or found or "paper")
    try:
        network.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in tensors.items()})
    except RuntimeError as error:
        raise InvalidArgumentError(f"does not hold a control network ({error})") from None
    return network.eval()
