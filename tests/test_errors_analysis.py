"""Bad input to the analyses (inference, RDMs, the index, importance) fails early, by name.

Each case asserts the package's exception class and a message naming the argument or entry,
what is allowed and what was received. The cases that used to give silent wrong results are
checked against an independent computation.
"""

import numpy as np
import pandas as pd
import pytest
import torch
from rsatoolbox.rdm import RDMs

from rsa_mirror import compute_rdms, compute_view_rdms
from rsa_mirror.errors import DataError, InvalidArgumentError, InvalidTypeError
from rsa_mirror.image_edits import insertion_deletion, shuffle_components
from rsa_mirror.importance import make_masks, rise_maps
from rsa_mirror.inference import bootstrap_compare, leave_one_out_ceiling, split_half_ceiling
from rsa_mirror.mirror_units import count_mirror_units, select_mirror_units
from rsa_mirror.networks.forward import unit_responses
from rsa_mirror.shapley import flip_group_components, mirror_components, shapley_decomposition, shapley_weights
from rsa_mirror.stimuli import StimulusSet
from rsa_mirror.studies.figure5 import importance_study
from rsa_mirror.studies.figure6 import brain_alignment
from rsa_mirror.symmetry import invariance, msvt_chance_level, msvt_index, summarize_msvt

N = 8  # stimuli
RNG = np.random.default_rng(0)
ACTIVATIONS = {"conv": RNG.standard_normal((N, 6)), "fc": RNG.standard_normal((N, 5))}
MIRROR = {"conv": RNG.standard_normal((N, 6)), "fc": RNG.standard_normal((N, 5))}
RESPONSES = RNG.standard_normal((N, 10))
MODELS = compute_rdms(ACTIVATIONS)
BRAINS = compute_rdms({"AL": RESPONSES, "AM": RNG.standard_normal((N, 9))})
COMPONENTS = {"conv": mirror_components(ACTIVATIONS["conv"], MIRROR["conv"])}
RDM = 1 - np.corrcoef(RNG.standard_normal((5, 12)))
IMAGES = RNG.random((2, 8, 8)).astype(np.float32)
NETWORK = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 4))
VIEWS = np.array([-30.0, 0.0, 30.0])
STIMULI = StimulusSet(RNG.random((3, 8, 8)), {"object": np.zeros(3, int), "view_deg": VIEWS})
TUNING = RNG.random((4, 3))


def nan_rdms():
    vectors = BRAINS.get_vectors().copy()
    vectors[1, 2] = np.nan
    return RDMs(vectors)


def with_nan(array, row=0):
    array = np.array(array, dtype=float)
    array.flat[row] = np.nan
    return array


def bootstrap(**kwargs):
    return bootstrap_compare(MODELS, BRAINS, **{"n_bootstrap": 5, "random_state": 0, **kwargs})


def ceiling(data=RESPONSES, **kwargs):
    return split_half_ceiling(data, **{"n_splits": 3, "random_state": 0, "name": "AL", **kwargs})


def shapley(components=COMPONENTS, **kwargs):
    return shapley_decomposition(components, BRAINS, **kwargs)


def alignment(activations=ACTIVATIONS, mirror=MIRROR, **kwargs):
    recordings = {"AL": RESPONSES, "AM": RNG.standard_normal((N, 9))}
    return brain_alignment(activations, mirror, recordings, **{"n_bootstrap": 4, "n_splits": 2, **kwargs})


def rise(**kwargs):
    options = {"n_masks": 4, "grid": 2, "device": "cpu", "random_state": 0, **kwargs}
    return rise_maps(NETWORK, options.pop("images", IMAGES), None, options.pop("units", [0, 1]), **options)


def study(**kwargs):
    return importance_study(NETWORK, kwargs.pop("stimuli", STIMULI), None, **{"device": "cpu", **kwargs})


def invalid(name):
    return rf"Invalid value for '{name}'"


WIDTH = r"expected an integer array of shape \(n_resamples >= 2, 8\)"
COUNT = r"expected an integer >= {}, got {}"

CASES = {
    # bootstrap_compare
    "bootstrap n_bootstrap=0": (lambda: bootstrap(n_bootstrap=0), InvalidArgumentError, invalid("n_bootstrap")),
    "bootstrap n_bootstrap=1": (
        lambda: bootstrap(n_bootstrap=1),
        InvalidArgumentError,
        invalid("n_bootstrap") + ": " + COUNT.format(2, 1),
    ),
    "bootstrap n_bootstrap<0": (lambda: bootstrap(n_bootstrap=-5), InvalidArgumentError, COUNT.format(2, -5)),
    "bootstrap n_bootstrap=2.5": (lambda: bootstrap(n_bootstrap=2.5), InvalidArgumentError, invalid("n_bootstrap")),
    "bootstrap n_bootstrap=True": (lambda: bootstrap(n_bootstrap=True), InvalidArgumentError, invalid("n_bootstrap")),
    "bootstrap n_bootstrap str": (lambda: bootstrap(n_bootstrap="10"), InvalidArgumentError, invalid("n_bootstrap")),
    "bootstrap method": (lambda: bootstrap(method="kendall"), InvalidArgumentError, invalid("method")),
    "bootstrap n_jobs=0": (lambda: bootstrap(n_jobs=0), InvalidArgumentError, invalid("n_jobs") + ".*got 0"),
    "bootstrap n_jobs=1.5": (lambda: bootstrap(n_jobs=1.5), InvalidArgumentError, invalid("n_jobs")),
    "bootstrap indices width": (
        lambda: bootstrap(indices=np.zeros((3, 7), int)),
        InvalidArgumentError,
        invalid("indices") + ": " + WIDTH + r".*got a int64 array of shape \(3, 7\)",
    ),
    "bootstrap indices 1-D": (lambda: bootstrap(indices=np.zeros(8, int)), InvalidArgumentError, WIDTH),
    "bootstrap indices one row": (lambda: bootstrap(indices=np.zeros((1, 8), int)), InvalidArgumentError, WIDTH),
    "bootstrap indices float": (lambda: bootstrap(indices=np.zeros((3, 8))), InvalidArgumentError, "float64 array"),
    "bootstrap indices ragged": (lambda: bootstrap(indices=[[0, 1], [0]]), InvalidArgumentError, "ragged"),
    "bootstrap indices negative": (
        lambda: bootstrap(indices=np.full((2, 8), -1)),
        InvalidArgumentError,
        invalid("indices") + r": stimulus numbers must lie in \[0, 7\] \(0-based\), got -1",
    ),
    "bootstrap indices too large": (
        lambda: bootstrap(indices=np.eye(2, 8, dtype=int) * 8),
        InvalidArgumentError,
        r"got 8 \(resample 0, position 0\)",
    ),
    "bootstrap model_rdms type": (
        lambda: bootstrap_compare(ACTIVATIONS["conv"], BRAINS),
        InvalidTypeError,
        r"Invalid type for 'model_rdms': expected rsatoolbox RDMs, got ndarray",
    ),
    "bootstrap brain NaN": (
        lambda: bootstrap_compare(MODELS, nan_rdms()),
        DataError,
        r"brain_rdms holds NaN or Inf in RDM\(s\) \[1\]",
    ),
    "bootstrap stimulus counts": (
        lambda: bootstrap_compare(MODELS, compute_rdms({"x": RESPONSES[:6]})),
        DataError,
        "model RDMs cover 8 stimuli and brain RDMs 6",
    ),
    "bootstrap stimulus order": (
        lambda: bootstrap_compare(
            compute_rdms(ACTIVATIONS, descriptors={"identity": np.arange(N)}),
            compute_rdms({"AL": RESPONSES}, descriptors={"identity": np.arange(N)[::-1]}),
        ),
        DataError,
        "stimulus order differs between model and brain RDMs: 'identity' of stimulus 0",
    ),
    # split_half_ceiling
    "ceiling n_splits=0": (lambda: ceiling(n_splits=0), InvalidArgumentError, invalid("n_splits") + ".*got 0"),
    "ceiling n_splits<0": (lambda: ceiling(n_splits=-2), InvalidArgumentError, invalid("n_splits")),
    "ceiling n_splits=1.5": (lambda: ceiling(n_splits=1.5), InvalidArgumentError, invalid("n_splits")),
    "ceiling 3 neurons": (
        lambda: ceiling(RESPONSES[:, :3]),
        DataError,
        r"split-half ceiling of 'AL' needs at least 3 stimuli and 4 neurons .* got 8 stimuli and 3 of 3",
    ),
    "ceiling constant neurons": (
        lambda: ceiling(np.hstack([RESPONSES[:, :3], np.ones((N, 5))])),
        DataError,
        "'AL' needs .* 3 of 8 neurons varying",
    ),
    "ceiling 2 stimuli": (lambda: ceiling(RESPONSES[:2]), DataError, "'AL' needs at least 3 stimuli"),
    "ceiling NaN": (
        lambda: ceiling(with_nan(RESPONSES, row=12)),
        DataError,
        "split-half ceiling of 'AL': responses hold NaN or Inf at stimuli 1 and neurons 2",
    ),
    "ceiling 1-D": (lambda: ceiling(RESPONSES[0]), DataError, r"'AL': responses must be \(n_stimuli, n_neurons\)"),
    "ceiling text": (lambda: ceiling("AL"), InvalidTypeError, "Invalid type for 'dataset'"),
    "ceiling indices width": (lambda: ceiling(indices=np.zeros((2, 9), int)), InvalidArgumentError, WIDTH),
    "ceiling indices range": (lambda: ceiling(indices=np.full((2, 8), 8)), InvalidArgumentError, r"\[0, 7\]"),
    "ceiling half without RDM": (
        # neurons 0 and 1 are equal: a half holding only them has a flat z-scored pattern per stimulus
        lambda: ceiling(np.hstack([RESPONSES[:, :1], RESPONSES[:, :1], RESPONSES[:, 1:3]]), n_splits=20),
        DataError,
        r"split-half ceiling of 'AL', split \d+: activations\['AL \(half \d\)'\]",
    ),
    # leave_one_out_ceiling
    "leave-one-out one RDM": (
        lambda: leave_one_out_ceiling(BRAINS[0]),
        InvalidArgumentError,
        invalid("rdms") + ": the leave-one-out ceiling needs at least 2 RDMs, got 1",
    ),
    "leave-one-out type": (lambda: leave_one_out_ceiling(RESPONSES), InvalidTypeError, "Invalid type for 'rdms'"),
    "leave-one-out method": (
        lambda: leave_one_out_ceiling(BRAINS, method="tau-a"),
        InvalidArgumentError,
        invalid("method"),
    ),
    # shapley_decomposition and its helpers
    "shapley n_bootstrap=1": (
        lambda: shapley(n_bootstrap=1),
        InvalidArgumentError,
        invalid("n_bootstrap") + r": expected 0 \(point values only\) or an integer >= 2, got 1",
    ),
    "shapley n_bootstrap<0": (lambda: shapley(n_bootstrap=-3), InvalidArgumentError, invalid("n_bootstrap")),
    "shapley n_bootstrap=0.5": (lambda: shapley(n_bootstrap=0.5), InvalidArgumentError, invalid("n_bootstrap")),
    "shapley indices width": (lambda: shapley(indices=np.zeros((3, 5), int)), InvalidArgumentError, WIDTH),
    "shapley stimuli": (
        lambda: shapley({"conv": mirror_components(ACTIVATIONS["conv"][:7], MIRROR["conv"][:7])}),
        DataError,
        r"component 'invariant' of layer 'conv' must have shape \(n_stimuli=8, \.\.\.\) .* got \(7, 6\)",
    ),
    "shapley component shapes": (
        lambda: shapley({"conv": {"a": ACTIVATIONS["conv"], "b": ACTIVATIONS["conv"][:, :4]}}),
        DataError,
        r"the components of layer 'conv' differ in shape: \{'a': \(8, 6\), 'b': \(8, 4\)\}",
    ),
    "shapley component names": (
        lambda: shapley({**COMPONENTS, "fc": {"invariant": ACTIVATIONS["fc"], "odd": MIRROR["fc"]}}),
        DataError,
        r"layer 'fc' has components \['invariant', 'odd'\], expected \['invariant', 'sensitive'\]",
    ),
    "shapley components list": (lambda: shapley([COMPONENTS]), InvalidTypeError, "Invalid type for 'components'"),
    "shapley components empty": (lambda: shapley({}), InvalidTypeError, "non-empty mapping"),
    "shapley layer not mapping": (
        lambda: shapley({"conv": ACTIVATIONS["conv"]}),
        InvalidTypeError,
        r"components\['conv'\] must be a non-empty mapping",
    ),
    "shapley NaN": (
        lambda: shapley({"conv": {**COMPONENTS["conv"], "sensitive": with_nan(COMPONENTS["conv"]["sensitive"])}}),
        DataError,
        "component 'sensitive' of layer 'conv' holds NaN or Inf",
    ),
    "shapley text component": (
        lambda: shapley({"conv": {"a": np.full((N, 2), "x")}}),
        InvalidTypeError,
        "component 'a' of layer 'conv' must be numeric",
    ),
    "shapley 1-D component": (
        lambda: shapley({"conv": {"a": np.arange(8.0)}}),
        DataError,
        r"component 'a' of layer 'conv' must have shape \(n_stimuli=8",
    ),
    "shapley rtol<0": (lambda: shapley(rtol=-1.0), InvalidArgumentError, invalid("rtol")),
    "shapley brain type": (
        lambda: shapley_decomposition(COMPONENTS, RESPONSES),
        InvalidTypeError,
        "Invalid type for 'brain_rdms'",
    ),
    "shapley all constant": (
        lambda: shapley({"conv": {"a": np.zeros((N, 3)), "b": np.zeros((N, 3))}}),
        DataError,
        "every coalition of components is constant",
    ),
    "shapley_weights 0": (lambda: shapley_weights(0), InvalidArgumentError, invalid("n_players")),
    "shapley_weights 2.5": (lambda: shapley_weights(2.5), InvalidArgumentError, invalid("n_players")),
    "mirror_components shapes": (
        lambda: mirror_components(ACTIVATIONS["conv"], ACTIVATIONS["fc"]),
        DataError,
        r"differ in shape: f_x \(8, 6\) vs f_gx \(8, 5\)",
    ),
    "mirror_components text": (
        lambda: mirror_components(ACTIVATIONS["conv"], "mirror"),
        InvalidTypeError,
        "Invalid type for 'f_gx'",
    ),
    "flip_group_components shapes": (
        lambda: flip_group_components(*[ACTIVATIONS["conv"]] * 3, ACTIVATIONS["fc"]),
        DataError,
        r"the four transforms differ in shape: .*'f_rot180': \(8, 5\)",
    ),
    # brain_alignment
    "alignment n_bootstrap=1": (lambda: alignment(n_bootstrap=1), InvalidArgumentError, invalid("n_bootstrap")),
    "alignment n_bootstrap=0": (lambda: alignment(n_bootstrap=0), InvalidArgumentError, COUNT.format(2, 0)),
    "alignment n_splits=0": (lambda: alignment(n_splits=0), InvalidArgumentError, invalid("n_splits")),
    "alignment method": (lambda: alignment(method="cosine"), InvalidArgumentError, invalid("method")),
    "alignment missing mirror layer": (
        lambda: alignment(mirror={"conv": MIRROR["conv"]}),
        InvalidArgumentError,
        invalid("mirror_activations") + r".*missing: \['fc'\]",
    ),
    "alignment extra mirror layer": (
        lambda: alignment(mirror={**MIRROR, "fc8": MIRROR["fc"]}),
        InvalidArgumentError,
        r"not in activations: \['fc8'\]",
    ),
    "alignment mirror shape": (
        lambda: alignment(mirror={**MIRROR, "conv": MIRROR["conv"][:, :3]}),
        DataError,
        r"activations\['conv'\] and mirror_activations\['conv'\] differ in shape: \(8, 6\) vs \(8, 3\)",
    ),
    "alignment stimuli": (
        lambda: alignment(
            {"conv": ACTIVATIONS["conv"][:6]},
            {"conv": MIRROR["conv"][:6]},
        ),
        DataError,
        r"activations\['conv'\] has shape \(6, 6\): expected 8 stimuli",
    ),
    "alignment recordings type": (
        lambda: brain_alignment(ACTIVATIONS, MIRROR, [RESPONSES]),
        InvalidTypeError,
        "Invalid type for 'recordings'",
    ),
    # compute_rdms and compute_view_rdms
    "rdms too large": (
        lambda: compute_rdms({"big": 1e200 * ACTIVATIONS["conv"]}),
        DataError,
        r"activations\['big'\]: values up to \d\.\d+e\+200 in magnitude .* too large for float64 .* rescale",
    ),
    "rdms mean overflows": (
        lambda: compute_rdms({"huge": np.full((N, 3), 1.5e308) - np.eye(N, 3) * 1e307}),
        DataError,
        r"activations\['huge'\]: values up to 1\.5e\+308 .* too large",
    ),
    "rdms too small": (
        lambda: compute_rdms({"tiny": 1e-160 * ACTIVATIONS["conv"]}),
        DataError,
        r"activations\['tiny'\]: values of units .* too small for float64 arithmetic",
    ),
    "rdms chunk_bytes": (
        lambda: compute_rdms(ACTIVATIONS, chunk_bytes=0),
        InvalidArgumentError,
        invalid("chunk_bytes"),
    ),
    "rdms flat_patterns": (
        lambda: compute_rdms(ACTIVATIONS, flat_patterns="zero"),
        InvalidArgumentError,
        invalid("flat_patterns"),
    ),
    "rdms activations list": (
        lambda: compute_rdms([ACTIVATIONS["conv"]]),
        InvalidTypeError,
        "Invalid type for 'activations'",
    ),
    "rdms descriptors length": (
        lambda: compute_rdms(ACTIVATIONS, descriptors={"identity": np.arange(7)}),
        DataError,
        r"descriptors\['identity'\] must have 8 values \(one per stimulus\), got 7",
    ),
    "rdms descriptors type": (
        lambda: compute_rdms(ACTIVATIONS, descriptors=np.arange(8)),
        InvalidTypeError,
        "Invalid type for 'descriptors'",
    ),
    "rdms 1-D entry": (lambda: compute_rdms({"v": np.arange(8.0)}), DataError, r"activations\['v'\] must have shape"),
    "rdms text entry": (lambda: compute_rdms({"t": np.full((N, 3), "a")}), DataError, r"\['t'\] must be numeric"),
    "view rdms design": (
        lambda: compute_view_rdms(ACTIVATIONS, descriptors={"view_deg": np.zeros(N)}),
        DataError,
        "descriptors need 'object' for per-object view RDMs",
    ),
    "view rdms chunk_bytes": (
        lambda: compute_view_rdms(ACTIVATIONS, chunk_bytes=-1),
        InvalidArgumentError,
        invalid("chunk_bytes"),
    ),
    # the mirror-symmetry index
    "msvt not square": (lambda: msvt_index(RDM[:, :4]), DataError, r"square .* got shape \(5, 4\)"),
    "msvt 2 views": (lambda: msvt_index(RDM[:2, :2]), DataError, "at least 3 views, got 2"),
    "msvt text": (lambda: msvt_index([["a"] * 3] * 3), InvalidTypeError, "Invalid type for 'rdm'"),
    "msvt NaN": (lambda: msvt_index(with_nan(RDM, row=1)), DataError, "rdm contains NaN"),
    "chance level 2": (lambda: msvt_chance_level(2), InvalidArgumentError, invalid("n_views") + ".*got 2"),
    "chance level 4.5": (lambda: msvt_chance_level(4.5), InvalidArgumentError, invalid("n_views")),
    "summarize missing column": (
        lambda: summarize_msvt(pd.DataFrame({"name": ["a"], "msvt": [0.1]}), by=("layer",)),
        InvalidArgumentError,
        invalid("by") + r".*missing: \['layer'\]",
    ),
    "summarize no msvt": (
        lambda: summarize_msvt(pd.DataFrame({"name": ["a"]})),
        InvalidArgumentError,
        invalid("table") + ".*'msvt' column, got columns name",
    ),
    "summarize type": (lambda: summarize_msvt({"msvt": [0.1]}), InvalidTypeError, "Invalid type for 'table'"),
    "invariance NaN": (
        lambda: invariance(with_nan(ACTIVATIONS["conv"]), MIRROR["conv"], "hflip"),
        DataError,
        "original activations hold NaN or Inf for images 0",
    ),
    "invariance statistics": (
        lambda: invariance(ACTIVATIONS["conv"], MIRROR["conv"], "hflip", statistics=((0, 1), (0, 1))),
        InvalidArgumentError,
        invalid("statistics") + r".*unit shape \(6,\)",
    ),
    # importance
    "masks n_masks=0": (lambda: make_masks(0, 8), InvalidArgumentError, invalid("n_masks") + ".*got 0"),
    "masks n_masks<0": (lambda: make_masks(-1, 8), InvalidArgumentError, invalid("n_masks")),
    "masks p=0": (
        lambda: make_masks(4, 8, p=0),
        InvalidArgumentError,
        invalid("p") + r": expected a number in \(0, 1\)",
    ),
    "masks p=1": (lambda: make_masks(4, 8, p=1.0), InvalidArgumentError, invalid("p")),
    "masks p=1.5": (lambda: make_masks(4, 8, p=1.5), InvalidArgumentError, invalid("p") + ".*got 1.5"),
    "masks p=NaN": (lambda: make_masks(4, 8, p=float("nan")), InvalidArgumentError, invalid("p")),
    "masks grid=0": (lambda: make_masks(4, 8, grid=0), InvalidArgumentError, invalid("grid")),
    "masks size=0": (lambda: make_masks(4, 0), InvalidArgumentError, invalid("size")),
    "masks size (8, 0)": (lambda: make_masks(4, (8, 0)), InvalidArgumentError, invalid("size") + ".*got 0"),
    "masks size 3-D": (lambda: make_masks(4, (8, 8, 8)), InvalidArgumentError, invalid("size")),
    "masks generator": (
        lambda: make_masks(4, 8, generator=np.random.default_rng(0)),
        InvalidTypeError,
        "Invalid type for 'generator'",
    ),
    "rise n_masks=0": (lambda: rise(n_masks=0), InvalidArgumentError, invalid("n_masks")),
    "rise batch_size=0": (lambda: rise(batch_size=0), InvalidArgumentError, invalid("batch_size")),
    "rise p=0": (lambda: rise(p=0.0), InvalidArgumentError, invalid("p")),
    "rise grid=0": (lambda: rise(grid=0), InvalidArgumentError, invalid("grid")),
    "rise no units": (lambda: rise(units=[]), InvalidArgumentError, invalid("units")),
    "rise negative unit": (lambda: rise(units=[-1]), InvalidArgumentError, invalid("units")),
    "rise fractional unit": (lambda: rise(units=[0.5]), InvalidArgumentError, invalid("units")),
    "rise unit out of range": (
        lambda: rise(units=[0, 9]),
        InvalidArgumentError,
        invalid("units") + r": the network's output has 4 units \(0 \.\. 3\), got unit 9",
    ),
    "rise random_state<0": (lambda: rise(random_state=-1), InvalidArgumentError, invalid("random_state")),
    "rise weights NaN": (
        lambda: rise(weights=with_nan(np.ones((1, 2)))),
        InvalidArgumentError,
        invalid("weights") + ": expected finite values",
    ),
    "rise images NaN": (
        lambda: rise(images=with_nan(IMAGES, row=70)),
        DataError,
        "images 1 hold NaN or Inf",
    ),
    "rise images 2-D": (lambda: rise(images=IMAGES[0]), DataError, r"images must be \(n, H, W\)"),
    "unit_responses batch_size=0": (
        lambda: unit_responses(NETWORK, IMAGES, None, None, batch_size=0),
        InvalidArgumentError,
        invalid("batch_size"),
    ),
    "study n_masks=0": (lambda: study(n_masks=0), InvalidArgumentError, invalid("n_masks") + ".*got 0"),
    "study batch_size=0": (lambda: study(batch_size=0), InvalidArgumentError, invalid("batch_size")),
    "study grid=0": (lambda: study(grid=0), InvalidArgumentError, invalid("grid")),
    "study threshold 0": (lambda: study(thresholds=(0.0, 0.5)), InvalidArgumentError, invalid("thresholds")),
    "study no thresholds": (lambda: study(thresholds=()), InvalidArgumentError, invalid("thresholds")),
    "study scalar threshold": (lambda: study(thresholds=0.5), InvalidArgumentError, invalid("thresholds")),
    "study shuffle_threshold=1": (
        lambda: study(shuffle_threshold=1),
        InvalidArgumentError,
        invalid("shuffle_threshold"),
    ),
    "study fraction=0": (lambda: study(fraction=0), InvalidArgumentError, invalid("fraction") + r".*\(0, 1\]"),
    "study random_state=None": (lambda: study(random_state=None), InvalidArgumentError, invalid("random_state")),
    "study stimuli array": (lambda: study(stimuli=IMAGES), InvalidTypeError, "Invalid type for 'stimuli'"),
    "study stimuli design": (
        lambda: study(stimuli=StimulusSet(IMAGES, {"object": [0, 0]})),
        DataError,
        r"stimuli need the descriptors \['view_deg'\]",
    ),
    "mirror units fraction=1.5": (
        lambda: select_mirror_units(TUNING, VIEWS, fraction=1.5),
        InvalidArgumentError,
        invalid("fraction"),
    ),
    "mirror units alpha=0": (
        lambda: select_mirror_units(TUNING, VIEWS, criterion="baek", alpha=0),
        InvalidArgumentError,
        invalid("alpha"),
    ),
    "mirror units shapes": (
        lambda: select_mirror_units(TUNING, VIEWS[:2]),
        DataError,
        r"tuning must be \(n_units, n_views\) .* got shapes \(4, 3\) and \(2,\)",
    ),
    "mirror units NaN": (lambda: select_mirror_units(with_nan(TUNING), VIEWS), DataError, "tuning holds NaN"),
    "count mirror units alpha=1": (
        lambda: count_mirror_units(NETWORK, STIMULI, None, alpha=1.0),
        InvalidArgumentError,
        invalid("alpha"),
    ),
    "insertion fraction": (
        lambda: insertion_deletion(IMAGES[0], IMAGES[1], IMAGES[0] > 0.5, 1.5),
        InvalidArgumentError,
        invalid("fraction") + r": expected a number in \[0, 1\]",
    ),
    "insertion shapes": (
        lambda: insertion_deletion(IMAGES[0], IMAGES[1][:4], IMAGES[0] > 0.5, 0.5),
        DataError,
        r"'importance': \(4, 8\)",
    ),
    "shuffle max_tries": (
        lambda: shuffle_components(IMAGES[0], IMAGES[0] > 0.5, max_tries=0),
        InvalidArgumentError,
        invalid("max_tries"),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_by_name(name):
    call, error, message = CASES[name]
    with pytest.raises(error, match=message):
        call()


def test_indices_are_copied_as_int64():
    indices = np.tile(np.arange(N, dtype=np.uint16), (3, 1))
    result = bootstrap(indices=indices)
    indices[:] = 0
    assert result.indices.dtype == np.int64 and np.array_equal(result.indices[0], np.arange(N))


def test_a_resample_of_one_stimulus_correlates_0_not_nan():
    """It keeps no cell (every pair is a stimulus with its copy): r = 0 by the rule, as for flat RDMs."""
    indices = np.vstack([np.full(N, 3), np.arange(N)])
    result = bootstrap(indices=indices)
    assert np.array_equal(result.samples[..., 0], np.zeros((2, 2)))
    np.testing.assert_allclose(result.samples[..., 1], result.estimate, atol=1e-12)  # all stimuli once
    ceiling_samples = ceiling(indices=indices).samples
    assert ceiling_samples[0] == 0.0 and np.isfinite(ceiling_samples).all()


def test_shapley_without_resamples_has_no_samples():
    result = shapley(n_bootstrap=0)
    assert result.samples is None and result.indices is None
    assert np.allclose(result.values.sum(axis=-1), result.full, atol=1e-12)


def zscored_reference(x):
    """1 - Pearson r across units of the z-scored units (upper triangle), from numpy alone."""
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    return (1 - np.corrcoef(z))[np.triu_indices(len(x), 1)]


@pytest.mark.parametrize(("scale", "dtype", "atol"), [(1e150, np.float64, 1e-12), (1e-140, np.float64, 1e-12),
                                                      (1e-20, np.float32, 2e-6), (1e30, np.float32, 2e-6)])  # fmt: skip
def test_rdms_of_very_large_or_small_values_are_right(scale, dtype, atol):
    """Values that fit are analysed exactly (float32 at 1e-20 lost 3 digits to underflow before)."""
    x = ACTIVATIONS["conv"]
    rdm = compute_rdms({"x": (x * scale).astype(dtype)}).dissimilarities[0]
    np.testing.assert_allclose(rdm, zscored_reference(x), atol=atol)


@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_index_of_very_large_or_small_rdms_is_right(scale):
    """Before, the products overflowed or underflowed and the index came out NaN."""
    assert msvt_index(RDM * scale) == pytest.approx(msvt_index(RDM), abs=1e-12)


def test_rise_maps_draw_a_seed_when_none_is_given():
    """Before, a drawn seed overflowed torch's 64-bit seed and every call without one failed."""
    first = rise(random_state=np.random.default_rng(5))
    assert np.array_equal(first, rise(random_state=np.random.default_rng(5)))
    assert rise(random_state=None).shape == first.shape


def test_ceiling_reliabilities_stay_correlations():
    """Spearman-Brown 2r / (1 + r) is clipped to [-1, 1]: for r < -1/3 it would leave it."""
    data = np.random.default_rng(0).standard_normal((6, 8))  # pure noise: halves can disagree
    reliability = split_half_ceiling(data, n_splits=50, random_state=0, normalize="zscore").reliability
    rng, expected = np.random.default_rng(0), []
    for _ in range(50):  # the same splits, the same rule, from numpy alone
        order = rng.permutation(8)
        r = np.corrcoef(zscored_reference(data[:, order[:4]]), zscored_reference(data[:, order[4:]]))[0, 1]
        expected.append(np.clip(2 * r / (1 + r), -1, 1))
    np.testing.assert_allclose(reliability, expected, atol=1e-12)
    assert reliability.min() == -1.0  # some splits hit the clip here
