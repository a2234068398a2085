"""Seeds through one SeedSequence helper, Generators everywhere, torch's global RNG untouched; one engine.

- ``derive_seed`` / ``seed_sequence``: integer seeds keep their meaning (3 and np.int64(3)
  agree), Generators and SeedSequences are accepted, child streams are independent;
- ``load_model``, ``rise_maps``, ``importance_study`` and ``train`` take a Generator;
- ``train`` leaves torch's global random state as it was, and its regime's mirrored half no
  longer comes from the permutation of its validation split;
- the LeCun initialization is ``kaiming_normal_(nonlinearity="linear")``, bit-identical to the
  formula N(0, 1/fan_in) on a convolution, a grouped convolution and a linear layer;
- one precision rule (``devices.autocast``) and one forward engine serve every pass.
"""

from pathlib import Path

import numpy as np
import pytest
import torch

from rsa_mirror._utils import check_random_state, derive_seed, seed_sequence
from rsa_mirror.importance import rise_maps
from rsa_mirror.networks.datasets import ImageData, apply_regime, load_dataset
from rsa_mirror.networks.devices import autocast, compute_dtype
from rsa_mirror.networks.models import lecun_normal_, load_model
from rsa_mirror.networks.training import train
from rsa_mirror.studies.figure5 import importance_study

ROOT = Path(__file__).parent.parent


def test_integer_seeds_keep_their_meaning_and_generators_are_accepted():
    assert derive_seed(3) == derive_seed(np.int64(3)) == 3
    assert derive_seed(3, 1) == derive_seed(np.int64(3), 1) != derive_seed(3, 2)
    first, again = derive_seed(np.random.default_rng(5)), derive_seed(np.random.default_rng(5))
    assert first == again  # the same Generator state, the same seed
    generator = np.random.default_rng(5)
    assert derive_seed(generator) != derive_seed(generator)  # each call on one Generator: another stream
    assert derive_seed(np.random.SeedSequence(9)) == derive_seed(np.random.SeedSequence(9))
    assert 0 <= derive_seed(np.random.default_rng(0), maximum=10) <= 10
    with pytest.raises(ValueError, match="a seed is needed here"):
        derive_seed(None, required=True)
    with pytest.raises(TypeError, match="legacy RandomState"):
        derive_seed(np.random.RandomState(0))


def test_child_streams_are_independent_of_their_parent():
    parent = check_random_state(seed_sequence(7)).permutation(100)
    child = check_random_state(seed_sequence(7, 1)).permutation(100)
    assert np.array_equal(parent, np.random.default_rng(7).permutation(100))  # an int is SeedSequence(int)
    assert not np.array_equal(parent, child)
    assert np.array_equal(child, check_random_state(seed_sequence(np.int64(7), 1)).permutation(100))


def test_untrained_weights_from_a_generator_are_reproducible():
    a = load_model("alexnet", weights="untrained", random_state=np.random.default_rng(1))
    b = load_model("alexnet", weights="untrained", random_state=np.random.default_rng(1))
    assert torch.equal(a.module.features[0].weight, b.module.features[0].weight)
    state = torch.get_rng_state()
    load_model("alexnet", weights="untrained", random_state=4)
    assert torch.equal(state, torch.get_rng_state())  # torch's global state untouched


@pytest.mark.parametrize(
    "layer",
    [
        torch.nn.Conv2d(3, 8, 5),
        torch.nn.Conv2d(6, 12, 3, groups=3),  # fan_in = 6 / 3 x 3 x 3
        torch.nn.Linear(37, 11),
    ],
    ids=["conv", "grouped conv", "linear"],
)
def test_lecun_normal_is_kaiming_normal_linear_bit_for_bit(layer):
    module = torch.nn.Sequential(layer)
    expected = torch.empty_like(layer.weight)
    with torch.no_grad():  # the formula used before: N(0, fan_in^-1/2) drawn from the same generator
        expected.normal_(0.0, layer.weight[0].numel() ** -0.5, generator=torch.Generator().manual_seed(3))
    lecun_normal_(module, generator=torch.Generator().manual_seed(3))
    assert torch.equal(layer.weight, expected)
    assert float(layer.bias.abs().max()) == 0.0
    source = (ROOT / "rsa_mirror" / "networks" / "models.py").read_text()
    assert 'kaiming_normal_(layer.weight, nonlinearity="linear", generator=generator)' in source


@pytest.fixture(scope="module")
def digits():
    data = load_dataset("digits")
    return ImageData(data.images[:120], data.labels[:120], 10, "digits")


def test_train_leaves_torchs_global_random_state_and_takes_a_generator(digits):
    torch.manual_seed(123)
    state = torch.get_rng_state()
    options = {"epochs": 1, "batch_size": 32, "device": "cpu"}
    result = train(digits, random_state=np.random.default_rng(2), **options)
    assert torch.equal(state, torch.get_rng_state())
    again = train(digits, random_state=result.config["seed"], **options)  # the recorded integer seed replays it
    assert all(torch.equal(v, again.network.state_dict()[k]) for k, v in result.network.state_dict().items())


def test_the_mirrored_half_is_not_the_validation_permutation(digits):
    """Before, apply_regime and the validation split drew the same permutation of the seed."""
    seed, n = 4, len(digits)
    split = np.random.default_rng(seed).permutation(n)
    regime = check_random_state(seed_sequence(seed, 1)).permutation(n)
    assert not np.array_equal(split, regime)
    mirrored_before = torch.from_numpy(split < n // 2)
    sensitive = apply_regime(digits, "mirror_sensitive", random_state=seed_sequence(seed, 1))
    moved = sensitive.labels >= 10
    assert int(moved.sum()) == n // 2 and not torch.equal(moved, mirrored_before)
    result = train(digits, regime="mirror_sensitive", epochs=1, batch_size=32, device="cpu", random_state=seed)
    assert result.config["regime"] == "mirror_sensitive" and result.config["seed"] == seed


@pytest.mark.filterwarnings("ignore:.*no index")
def test_rise_and_the_importance_study_take_a_generator(objects):
    network = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 3))
    images = objects.images[:2, :8, :8]
    options = {"n_masks": 16, "grid": 2, "device": "cpu"}
    maps = rise_maps(network, images, None, [0, 1], random_state=np.random.default_rng(3), **options)
    assert np.array_equal(
        maps, rise_maps(network, images, None, [0, 1], random_state=np.random.default_rng(3), **options)
    )
    assert np.array_equal(
        rise_maps(network, images, None, [0], random_state=3, **options),
        rise_maps(network, images, None, [0], random_state=np.int64(3), **options),
    )
    views = np.linspace(-90, 90, 5)  # one object whose square's gray is V-shaped in the view
    gray = np.full((5, 8, 8), 0.5, dtype=np.float32)
    gray[:, 1:4, 1:4] = (0.6 + 0.4 * np.abs(views) / 90)[:, None, None]
    gray[:, 5:7, 5:7] = (0.2 + 0.1 * (views + 90) / 180)[:, None, None]
    stimuli = type(objects)(gray, {"object": np.array(["x"] * 5), "view_deg": views})
    reader = torch.nn.Linear(3 * 8 * 8, 2, bias=False)
    with torch.no_grad():
        reader.weight.zero_()
        reader.weight.view(2, 3, 8, 8)[0, 0, 1:4, 1:4] = 1 / 9
        reader.weight.view(2, 3, 8, 8)[1, 0, 5:7, 5:7] = 1 / 4
    network = torch.nn.Sequential(torch.nn.Flatten(), reader)
    runs = [
        importance_study(network, stimuli, None, n_masks=8, grid=2, device="cpu", random_state=np.random.default_rng(1))
        for _ in range(2)
    ]
    assert list(runs[0].maps) == ["x"]
    assert np.array_equal(runs[0].maps["x"], runs[1].maps["x"])


def test_one_precision_rule_and_one_forward_engine():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert compute_dtype(cpu) == torch.float32 and compute_dtype(cuda) == torch.bfloat16
    assert compute_dtype(cuda, torch.float32) == torch.float32
    with autocast(cpu):
        assert not torch.is_autocast_enabled("cpu")
    library = [f for f in (ROOT / "rsa_mirror").rglob("*.py")]
    autocasts = sorted(str(f.relative_to(ROOT)) for f in library if "torch.autocast(" in f.read_text())
    assert autocasts == ["rsa_mirror/networks/devices.py"]  # the rule is written once
    hooks = sorted(str(f.relative_to(ROOT)) for f in library if "register_forward_hook" in f.read_text())
    assert hooks == ["rsa_mirror/networks/forward.py"]  # every pass goes through the engine
    for module in ("rsa_mirror/importance.py", "rsa_mirror/networks/training.py"):
        for line in (ROOT / module).read_text().splitlines():  # no private name of another module
            if line.startswith("from ") and " import " in line:
                names = line.split(" import ", 1)[1].replace("(", "").split(",")
                assert not [n for n in names if n.strip().startswith("_")], (module, line)
