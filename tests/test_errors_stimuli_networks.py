"""Bad input to stimuli, loaders, rendering, models and activations: clear package errors, no silent results."""

import functools
import pickle
import warnings

import numpy as np
import pytest
import scipy.io
import torch

from rsa_mirror.errors import FileFormatError, InvalidArgumentError, InvalidTypeError, RsaMirrorError
from rsa_mirror.networks.activations import (
    extract_activations,
    measure_equivariance,
    model_view_rdms,
    stream_activations,
)
from rsa_mirror.networks.devices import resolve_device
from rsa_mirror.networks.models import load_model
from rsa_mirror.stimuli import (
    StimulusSet,
    build_object,
    ellipsoid,
    load_stimuli,
    natural_images,
    noise_images,
    render_faces,
    render_mesh,
    render_objects,
)

BAD_COUNTS = [0, -2, 2.5]


@pytest.fixture
def toy_network(toy_network):
    """The shared toy without its readout or biases: the activations of x at "1" are relu([x, -x])."""
    return functools.partial(toy_network, readout=False, bias=(0.0, 0.0))


def save_cells(path, images, names=("car_01",), **extra):
    """Write the paper's .mat layout: cm_imgs (objects x views cells) and names."""
    cells = np.empty((len(names), len(images) // len(names)), dtype=object)
    for k, image in enumerate(images):
        cells[np.unravel_index(k, cells.shape)] = image
    names_cell = np.empty((1, len(names)), dtype=object)
    names_cell[0, :] = names
    scipy.io.savemat(path, {"cm_imgs": cells, "names": names_cell, **extra})
    return path


# --- images enter in [0, 1]: integers scaled by their dtype's maximum, floats checked --------------


@pytest.mark.parametrize(
    ("images", "match"),
    [
        (
            np.full((2, 4, 4), 255.0),
            r"Invalid value for 'images': float images must lie in \[0, 1\], got values in \[255, 255\].*"
            r"divide 0-255 images by 255",
        ),
        (np.full((2, 4, 4), -0.25), r"got values in \[-0.25, -0.25\]"),
        (np.stack([np.zeros((4, 4)), np.full((4, 4), 1.5)]), r"got values in \[0, 1.5\] \(images 1\)"),
        (np.stack([np.zeros((4, 4)), np.full((4, 4), np.nan)]), r"images \[1\] contain NaN or Inf"),
        (np.full((1, 4, 4), np.inf), r"images \[0\] contain NaN or Inf"),
        (np.full((2, 4, 4), -3, np.int16), r"int16 images hold negative values \(minimum -3\)"),
        (np.zeros((0, 4, 4)), r"a stimulus set needs at least one image, got 0"),
        (np.zeros((2, 0, 4)), r"at least 1 x 1 pixels"),
        (np.zeros((2, 4, 4, 4)), r"expected shape \(n, H, W\) or \(n, 3, H, W\)"),
        (np.zeros(4), r"expected shape \(n, H, W\) or \(n, 3, H, W\)"),
    ],
)
def test_bad_images_are_refused_with_the_range_found(images, match):
    with pytest.raises(InvalidArgumentError, match=match):
        StimulusSet(images)


def test_images_that_are_not_numbers():
    with pytest.raises(InvalidTypeError, match=r"Invalid value for 'images': expected numbers.*got dtype <U1"):
        StimulusSet(np.array([[["a"]]]))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"background": 1.5},
            InvalidArgumentError,
            r"Invalid value for 'background': expected a gray level in \[0, 1\]",
        ),
        ({"background": "gray"}, InvalidTypeError, r"Invalid type for 'background'"),
        ({"descriptors": [1, 2]}, InvalidTypeError, r"Invalid type for 'descriptors': expected a mapping"),
        ({"descriptors": {"view_deg": [0.0]}}, InvalidArgumentError, r"descriptors\['view_deg'\] must have 2 values"),
        ({"masks": np.ones((2, 3, 3))}, InvalidArgumentError, r"Invalid value for 'masks': expected shape \(2, 4, 4\)"),
    ],
)
def test_bad_stimulus_set_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        StimulusSet(np.zeros((2, 4, 4)), **kwargs)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.uint32, np.int8])
def test_integer_images_are_divided_by_their_dtypes_maximum(dtype):
    maximum = np.iinfo(dtype).max
    data = np.array([[[0, 1, maximum // 3, maximum]]], dtype=dtype)
    images = StimulusSet(data).images
    assert images.dtype == np.float32 and images.max() == 1.0
    np.testing.assert_array_equal(images, (data.astype(np.float64) / maximum).astype(np.float32))


def test_uint16_mat_images_load_at_full_scale(tmp_path):
    data = np.random.default_rng(1).integers(0, 65536, (3, 6, 5)).astype(np.uint16)
    data[1, 2, 3] = 65535
    stimuli = load_stimuli(save_cells(tmp_path / "stimuli.mat", list(data)), views_deg=[-45, 0, 45])
    assert stimuli.images.max() == 1.0  # a full-scale pixel, not 65535 / 255 = 257
    np.testing.assert_array_equal(stimuli.images, (data / 65535).astype(np.float32))
    np.testing.assert_allclose(stimuli.images, data / 65535, rtol=1e-7)


def test_uint16_images_from_npz_and_png_folders_load_at_full_scale(tmp_path):
    from skimage.io import imsave

    data = np.random.default_rng(2).integers(0, 65536, (2, 5, 4)).astype(np.uint16)
    data[0, 0, 0] = 65535
    np.savez(tmp_path / "set.npz", images=data)
    np.testing.assert_array_equal(load_stimuli(tmp_path / "set.npz").images, (data / 65535).astype(np.float32))
    folder = tmp_path / "folder"
    folder.mkdir()
    for k, image in enumerate(data):
        imsave(folder / f"{k}.png", image, check_contrast=False)
    (folder / "descriptors.csv").write_text("file,object\n0.png,a\n1.png,b\n")
    loaded = load_stimuli(folder)
    assert loaded.images.max() == 1.0
    np.testing.assert_array_equal(loaded.images, (data / 65535).astype(np.float32))


def test_a_folder_loaded_set_saves_and_loads_back_whole(tmp_path):
    """String columns read by pandas (Python objects) are stored as strings, not pickles."""
    from skimage.io import imsave

    imsave(tmp_path / "a.png", np.full((4, 4), 128, np.uint8), check_contrast=False)
    (tmp_path / "descriptors.csv").write_text("file,object,view_deg\na.png,chair_01,45\n")
    stimuli = load_stimuli(tmp_path)
    again = load_stimuli(stimuli.save(tmp_path / "set.npz"))
    assert again.descriptors["object"].tolist() == ["chair_01"]
    np.testing.assert_array_equal(again.images, np.full((1, 4, 4), 128 / 255, np.float32))


# --- loaders name the file and the problem -----------------------------------------------------------


def _write_npz_variant(tmp_path, kind):
    path = tmp_path / f"{kind}.npz"
    good = StimulusSet(np.full((2, 4, 4), 0.5, np.float32))
    if kind == "truncated":
        whole = good.save(tmp_path / "whole.npz").read_bytes()
        path.write_bytes(whole[: len(whole) // 2])
    elif kind == "zero_byte":
        path.write_bytes(b"")
    elif kind == "object_array":
        np.savez(path, images=np.array([None, 1], dtype=object), allow_pickle=True)
    elif kind == "single_array":
        with open(path, "wb") as handle:
            np.save(handle, np.zeros((2, 4, 4)))
    elif kind == "no_images":
        np.savez(path, pictures=np.zeros(3))
    elif kind == "byte_range":
        np.savez(path, images=np.full((2, 4, 4), 200.0))
    elif kind == "bad_background":
        np.savez(path, images=np.zeros((2, 4, 4)), background=np.zeros(3))
    elif kind == "garbage":
        path.write_bytes(b"not a zip archive at all" * 4)
    return path


@pytest.mark.parametrize(
    ("kind", "match"),
    [
        ("truncated", r"truncated\.npz: cannot be read as a \.npz file"),
        ("zero_byte", r"zero_byte\.npz: the stimulus file is empty \(0 bytes\)"),
        ("object_array", r"object_array\.npz entry 'images': cannot be read.*never loaded"),
        ("single_array", r"single_array\.npz: holds a single \.npy array, not a \.npz archive"),
        ("no_images", r"no_images\.npz: no 'images' array; the file holds pictures"),
        ("byte_range", r"byte_range\.npz: Invalid value for 'images': float images must lie in \[0, 1\]"),
        ("bad_background", r"bad_background\.npz: 'background' must be one number"),
        ("garbage", r"garbage\.npz: cannot be read as a \.npz file"),
    ],
)
def test_bad_npz_files_are_named(tmp_path, kind, match):
    path = _write_npz_variant(tmp_path, kind)
    with pytest.raises(FileFormatError, match=match):
        load_stimuli(path)


@pytest.mark.parametrize("suffix", [".npy", ".png", ".h5", ""])
def test_unsupported_file_types_say_what_is_supported(tmp_path, suffix):
    path = tmp_path / f"stimuli{suffix}"
    np.save(tmp_path / "array.npy", np.zeros((2, 4, 4)))
    path.write_bytes((tmp_path / "array.npy").read_bytes())
    with pytest.raises(
        FileFormatError, match=r"stimuli.*: unsupported stimulus file type.*reads a \.npz.*\.mat.*folder"
    ):
        load_stimuli(path)


def _write_folder_variant(folder, kind):
    from skimage.io import imsave

    folder.mkdir()
    imsave(folder / "a.png", np.zeros((4, 4), np.uint8), check_contrast=False)
    imsave(folder / "b.png", np.full((4, 4), 9, np.uint8), check_contrast=False)
    table = "file,object\na.png,x\nb.png,y\n"
    if kind == "corrupt_png":
        (folder / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 8)
    elif kind == "truncated_png":
        (folder / "b.png").write_bytes((folder / "b.png").read_bytes()[:40])
    elif kind == "not_an_image":
        (folder / "b.png").write_text("hello")
    elif kind == "mixed_sizes":
        imsave(folder / "b.png", np.zeros((5, 4), np.uint8), check_contrast=False)
    elif kind == "float_tiff":
        import tifffile

        tifffile.imwrite(folder / "b.tif", np.full((4, 4), 3.0, np.float32), photometric="minisblack")
        table = "file,object\na.png,x\nb.tif,y\n"
    elif kind == "empty_table":
        table = ""
    elif kind == "no_file_column":
        table = "name,object\na.png,x\n"
    elif kind == "no_rows":
        table = "file,object\n"
    elif kind == "blank_file_name":
        table = "file,object\na.png,x\n,y\n"
    (folder / "descriptors.csv").write_text(table)


@pytest.mark.filterwarnings("ignore:The legacy `DICOM` plugin:DeprecationWarning")  # imageio trying its readers
@pytest.mark.parametrize(
    ("kind", "match"),
    [
        ("corrupt_png", r"b\.png: cannot be read as an image"),
        ("truncated_png", r"b\.png: cannot be read as an image"),
        ("not_an_image", r"b\.png: cannot be read as an image"),
        ("mixed_sizes", r"images differ in size: a\.png is 4 x 4 pixels, b\.png is 5 x 4"),
        ("float_tiff", r"b\.tif: float images must lie in \[0, 1\], got values in \[3, 3\]"),
        ("empty_table", r"descriptors\.csv: cannot be read as a CSV table"),
        ("no_file_column", r"descriptors\.csv: no 'file' column; columns are name, object"),
        ("no_rows", r"descriptors\.csv: lists no images"),
        ("blank_file_name", r"descriptors\.csv: rows 1 have no file name"),
    ],
)
def test_bad_image_folders_name_the_file_and_the_image(tmp_path, kind, match):
    _write_folder_variant(tmp_path / "set", kind)
    with pytest.raises(FileFormatError, match=match):
        load_stimuli(tmp_path / "set")


@pytest.mark.parametrize(
    ("kind", "match"),
    [
        ("mixed_sizes", r"images differ in size: cm_imgs\{1,1\} \(car_01, view 1\) is 4 x 4 pixels, cm_imgs\{1,2\}"),
        (
            "byte_range_double",
            r"cm_imgs\{1,3\} \(car_01, view 3\): float images must lie in \[0, 1\], got values in \[0, 200\]",
        ),
        ("empty_cell", r"cm_imgs\{1,2\} \(car_01, view 2\): expected a gray or RGB image"),
        ("text_cell", r"cm_imgs\{1,2\} \(car_01, view 2\): expected a gray or RGB image"),
        ("masks_shape", r"cm_bw_masks\{1,2\} \(car_01, view 2\) is \(3, 4\), its image \(4, 4\)"),
        ("no_cells", r"no variable 'cm_imgs'"),
        ("zero_byte", r"the stimulus file is empty \(0 bytes\)"),
        ("garbage", r"cannot be read as a MATLAB \.mat file"),
    ],
)
def test_bad_mat_files_name_the_variable_and_cell(tmp_path, kind, match):
    path = tmp_path / "stimuli.mat"
    images = [np.zeros((4, 4), np.uint8), np.full((4, 4), 7, np.uint8), np.full((4, 4), 9, np.uint8)]
    extra = {}
    if kind == "mixed_sizes":
        images[1] = np.zeros((5, 4), np.uint8)
    elif kind == "byte_range_double":
        images[2] = np.linspace(0, 200, 16).reshape(4, 4)
    elif kind == "empty_cell":
        images[1] = np.zeros((0, 0))
    elif kind == "text_cell":
        images[1] = "view"
    elif kind == "masks_shape":
        masks = np.empty((1, 3), dtype=object)
        for j in range(3):
            masks[0, j] = np.ones((3 if j == 1 else 4, 4), bool)
        extra["cm_bw_masks"] = masks
    if kind == "no_cells":
        scipy.io.savemat(path, {"images": np.zeros((2, 2))})
    elif kind == "zero_byte":
        path.write_bytes(b"")
    elif kind == "garbage":
        path.write_bytes(b"MATLAB 5.0 MAT-file" + b"\x00" * 20)
    else:
        save_cells(path, images, **extra)
    with pytest.raises(FileFormatError, match=r"stimuli\.mat.*" + match):
        load_stimuli(path, views_deg=[-45, 0, 45])


@pytest.mark.parametrize("views", [[-45, 0], [0, 1, np.nan], ["a", "b", "c"]])
def test_mat_views_must_match_the_cells(tmp_path, views):
    path = save_cells(tmp_path / "stimuli.mat", [np.zeros((4, 4), np.uint8)] * 3)
    with pytest.raises(InvalidArgumentError, match=r"Invalid value for 'views_deg': expected 3 finite yaws"):
        load_stimuli(path, views_deg=views)


# --- weights files ------------------------------------------------------------------------------------


class Tripwire:
    """Unpickling one of these records it in ``CALLS``: proof that a file was unpickled."""

    def __reduce__(self):
        return (_tripped, ())


CALLS = []


def _tripped():
    CALLS.append("unpickled")
    return "tripped"


def _write_weights_variant(path, kind):
    if kind == "garbage":
        path.write_bytes(b"these are not weights" * 10)
    elif kind == "zero_byte":
        path.write_bytes(b"")
    elif kind in ("truncated", "truncated_early"):
        torch.save({"features.0.weight": torch.zeros(64, 3, 11, 11)}, path)
        path.write_bytes(path.read_bytes()[: 10_000 if kind == "truncated" else 100])
    elif kind == "pickled_object":
        path.write_bytes(pickle.dumps({"features.0.weight": Tripwire()}, protocol=2))
    elif kind == "torch_saved_object":
        torch.save({"note": Tripwire()}, path)
    elif kind == "tensor":
        torch.save(torch.zeros(3), path)
    elif kind == "other_network":
        torch.save({"layer.weight": torch.zeros(2)}, path)
    elif kind == "not_tensors":
        torch.save({"features.0.weight": [1.0, 2.0]}, path)


@pytest.mark.parametrize(
    ("kind", "match"),
    [
        ("garbage", r"cannot be read as a PyTorch state-dict file"),
        ("zero_byte", r"the weights file is empty \(0 bytes\)"),
        ("truncated", r"cannot be read as a PyTorch state-dict file"),
        ("truncated_early", r"cannot be read as a PyTorch state-dict file"),
        ("pickled_object", r"cannot be read as a PyTorch state-dict file.*never loaded"),
        ("torch_saved_object", r"cannot be read as a PyTorch state-dict file.*Unsupported global"),
        ("tensor", r"holds a Tensor, not a state dict"),
        ("other_network", r"does not hold alexnet weights"),
        ("not_tensors", r"entries \['features.0.weight'\] of the state dict are not tensors"),
    ],
)
def test_bad_weight_files_are_named_and_never_unpickled(tmp_path, kind, match):
    path = tmp_path / f"{kind}.pt"
    _write_weights_variant(path, kind)
    with pytest.raises(FileFormatError, match=rf"{kind}\.pt.*{match}"):
        load_model("alexnet", weights=path)
    assert CALLS == []


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_weights_with_nan_or_inf_are_refused(tmp_path, value):
    weight = torch.zeros(4, 3)
    weight[1, 2] = value
    torch.save({"classifier.1.weight": weight}, tmp_path / "broken.pt")
    with pytest.raises(FileFormatError, match=r"broken\.pt: parameters \['classifier.1.weight'\] hold NaN or Inf"):
        load_model("alexnet", weights=tmp_path / "broken.pt")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"name": "lenet"}, InvalidArgumentError, r"Invalid value for 'name': expected one of alexnet, vgg16"),
        ({"name": "alexnet", "weights": None}, InvalidTypeError, r"Invalid type for 'weights'"),
        (
            {"name": "alexnet", "weights": "untrained", "random_state": 1.5},
            InvalidArgumentError,
            r"Invalid value for 'random_state'",
        ),
        (
            {"name": "alexnet", "weights": "untrained", "random_state": -1},
            InvalidArgumentError,
            r"Invalid value for 'random_state'",
        ),
        (
            {"name": "alexnet", "weights": "untrained", "random_state": None},
            InvalidArgumentError,
            r"Invalid value for 'random_state'",
        ),
    ],
)
def test_bad_model_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        load_model(**kwargs)


# --- the activation cache checks its hits ------------------------------------------------------------


def _corrupt(file, kind):
    if kind == "wrong_shape":
        np.save(file, np.zeros((2, 5), np.float32))
    elif kind == "wrong_dtype":
        np.save(file, np.zeros((6, 2, 3, 3), np.float64))
    elif kind == "truncated":
        file.write_bytes(file.read_bytes()[:100])
    elif kind == "zero_byte":
        file.write_bytes(b"")
    elif kind == "pickled_object":
        np.save(file, np.array([Tripwire()], dtype=object), allow_pickle=True)
    elif kind == "raw_pickle":
        file.write_bytes(pickle.dumps(Tripwire()))
    elif kind == "trailing_bytes":  # a header that no longer describes the data
        file.write_bytes(file.read_bytes() + b"\x00" * 36)
    elif kind == "fortran_order":
        np.save(file, np.asfortranarray(np.load(file)[..., ::-1]))


@pytest.mark.parametrize(
    "kind",
    [
        "wrong_shape",
        "wrong_dtype",
        "truncated",
        "zero_byte",
        "pickled_object",
        "raw_pickle",
        "trailing_bytes",
        "fortran_order",
    ],
)
def test_a_bad_cache_entry_is_recomputed_and_rewritten(tmp_path, kind, toy_network):
    network, x = toy_network(), torch.rand(6, 1, 3, 3, generator=torch.Generator().manual_seed(0))
    fresh = extract_activations(network, x, ["1"], device="cpu", cache_dir=tmp_path)["1"]
    np.testing.assert_array_equal(fresh, np.maximum(np.concatenate([x, -x], axis=1), 0))  # independent
    (file,) = tmp_path.iterdir()
    _corrupt(file, kind)
    with pytest.warns(UserWarning, match=rf"activation cache entry .*{file.name}.*computing it afresh"):
        again = extract_activations(network, x, ["1"], device="cpu", cache_dir=tmp_path)["1"]
    assert CALLS == []  # never unpickled
    np.testing.assert_array_equal(again, fresh)
    assert [p.name for p in tmp_path.iterdir()] == [file.name]  # replaced, no temporaries left
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rewritten entry is a clean hit
        hit = extract_activations(network, x, ["1"], device="cpu", cache_dir=tmp_path)["1"]
    assert isinstance(hit, np.memmap)
    np.testing.assert_array_equal(hit, fresh)


def test_cache_dir_must_be_a_folder(tmp_path, toy_network):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidArgumentError, match=r"Invalid value for 'cache_dir': .*file is a file"):
        extract_activations(toy_network(), torch.rand(2, 1, 3, 3), ["1"], device="cpu", cache_dir=tmp_path / "file")


# --- counts, layers, devices, empty sets ---------------------------------------------------------------


def _call_with_count(target, value, small_set, toy_network):
    network = toy_network()
    x = torch.rand(6, 1, 3, 3)
    calls = {
        "render_objects.n_exemplars": lambda: render_objects(categories=("car",), n_exemplars=value, views_deg=(0.0,)),
        "render_objects.size": lambda: render_objects(categories=("car",), n_exemplars=1, views_deg=(0.0,), size=value),
        "render_faces.n_identities": lambda: render_faces(n_identities=value, size=8),
        "render_faces.size": lambda: render_faces(n_identities=1, size=value),
        "natural_images.n_images": lambda: natural_images(value, size=8),
        "natural_images.size": lambda: natural_images(1, size=value),
        "noise_images.n_images": lambda: noise_images(value, size=8),
        "noise_images.size": lambda: noise_images(1, size=value),
        "extract_activations.batch_size": lambda: extract_activations(
            network, x, ["1"], device="cpu", batch_size=value
        ),
        "stream_activations.batch_size": lambda: stream_activations(
            network, x, ["1"], lambda *args: None, device="cpu", batch_size=value
        ),
        "model_view_rdms.batch_size": lambda: model_view_rdms(
            network, small_set, ["1"], device="cpu", batch_size=value
        ),
        "measure_equivariance.batch_size": lambda: measure_equivariance(
            network, small_set, ["1"], device="cpu", batch_size=value
        ),
        "to_tensor.size": lambda: small_set.to_tensor(size=value),
        "render_mesh.size": lambda: render_mesh(ellipsoid(), 0.0, size=value),
        "render_mesh.supersample": lambda: render_mesh(ellipsoid(), 0.0, size=8, supersample=value),
        "ellipsoid.segments": lambda: ellipsoid(segments=value),
    }
    return calls[target]()


COUNT_TARGETS = [
    "render_objects.n_exemplars",
    "render_objects.size",
    "render_faces.n_identities",
    "render_faces.size",
    "natural_images.n_images",
    "natural_images.size",
    "noise_images.n_images",
    "noise_images.size",
    "extract_activations.batch_size",
    "stream_activations.batch_size",
    "model_view_rdms.batch_size",
    "measure_equivariance.batch_size",
    "to_tensor.size",
    "render_mesh.size",
    "render_mesh.supersample",
    "ellipsoid.segments",
]


@pytest.mark.parametrize("value", BAD_COUNTS)
@pytest.mark.parametrize("target", COUNT_TARGETS)
def test_bad_counts_are_refused_before_any_work(target, value, small_set, toy_network):
    argument = target.split(".")[1]
    with pytest.raises(
        InvalidArgumentError, match=rf"Invalid value for '{argument}': expected an integer >= \d+, got {value}"
    ):
        _call_with_count(target, value, small_set, toy_network)


@pytest.mark.parametrize(
    ("device", "error", "match"),
    [
        (
            "gpu",
            InvalidArgumentError,
            r"Invalid value for 'device': expected one of auto, cpu, cuda, cuda:<index>, mps, got 'gpu'",
        ),
        ("tpu:0", InvalidArgumentError, r"Invalid value for 'device': expected one of auto, cpu"),
        ("", InvalidArgumentError, r"Invalid value for 'device'"),
        ("meta", InvalidArgumentError, r"Invalid value for 'device': expected one of auto, cpu"),
        ("cuda:99", InvalidArgumentError, r"Invalid value for 'device': 'cuda:99' is not available"),
        (3, InvalidTypeError, r"Invalid type for 'device'"),
        (None, InvalidTypeError, r"Invalid type for 'device'"),
    ],
)
def test_unknown_devices(device, error, match, small_set, toy_network):
    with pytest.raises(error, match=match):
        resolve_device(device)
    with pytest.raises(error, match=match):
        extract_activations(toy_network(), torch.rand(2, 1, 3, 3), ["1"], device=device)
    if device is not None:
        with pytest.raises(error, match=match):
            small_set.to_tensor(device=device)


def test_known_devices_resolve():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize(
    ("layers", "error", "match"),
    [
        (
            ["fc9"],
            InvalidArgumentError,
            r"Invalid layer 'fc9' for alexnet: expected a preset \(conv1, conv2, .*fc8, image, .*fc7_pre\), 'all', "
            r"'figure2'",
        ),
        ("classifier.99", InvalidArgumentError, r"Invalid layer 'classifier.99' for alexnet"),
        ([], InvalidArgumentError, r"Invalid value for 'layers': expected at least one layer name \(presets: conv1"),
        ([3], InvalidTypeError, r"Invalid type for 'layers'"),
        (None, InvalidTypeError, r"Invalid type for 'layers'"),
    ],
)
def test_wrong_layer_names_list_the_valid_ones(alexnet, layers, error, match):
    with pytest.raises(error, match=match):
        extract_activations(alexnet, StimulusSet(np.zeros((1, 8, 8))), layers, device="cpu")


class Partial(torch.nn.Module):
    """A network whose forward pass skips one of its modules."""

    def __init__(self):
        super().__init__()
        self.used, self.unused = torch.nn.Conv2d(1, 2, 1), torch.nn.ReLU()

    def forward(self, x):
        return self.used(x)


def test_a_layer_that_never_runs_is_named():
    network = Partial()
    with pytest.raises(InvalidArgumentError, match=r"layers \{'unused': 'unused'\} never ran"):
        extract_activations(network, torch.rand(2, 1, 3, 3), ["used", "unused"], device="cpu")


@pytest.mark.parametrize(
    ("stimuli", "error", "match"),
    [
        (
            torch.zeros(0, 3, 8, 8),
            InvalidArgumentError,
            r"Invalid value for 'stimuli': expected model input .*n >= 1, got shape \(0, 3, 8, 8\)",
        ),
        (
            np.zeros((2, 1, 8, 8), np.float32),
            InvalidArgumentError,
            r"alexnet takes model input \(n, 3, H, W\), got shape \(2, 1, 8, 8\)",
        ),
        (np.array(["a", "b"]), InvalidTypeError, r"Invalid type for 'stimuli'"),
    ],
)
def test_bad_model_input(alexnet, stimuli, error, match):
    with pytest.raises(error, match=match):
        extract_activations(alexnet, stimuli, ["conv1"], device="cpu")


def test_an_empty_selection_is_refused_where_it_is_made(small_set):
    with pytest.raises(
        InvalidArgumentError,
        match=r"subset selects no image: no selected image has object='zzz' \(values present: a, b\)",
    ):
        small_set.subset(object="zzz")
    with pytest.raises(InvalidArgumentError, match=r"subset selects no image"):
        small_set.subset(np.zeros(6, bool))
    with pytest.raises(InvalidArgumentError, match=r"a stimulus set needs at least one image"):
        StimulusSet(small_set.images[:0])


@pytest.mark.parametrize(
    ("indices", "match"),
    [
        ([7], r"positions 7 are outside the 6 images \(0 to 5\)"),
        ([0.5], r"expected a 1-D list of integer positions or a boolean mask, got float64"),
        ([True, False], r"a boolean mask needs 6 values \(one per image\), got shape \(2,\)"),
        ([], r"selects no image"),
    ],
)
def test_bad_subset_indices(small_set, indices, match):
    with pytest.raises(InvalidArgumentError, match=rf"Invalid value for 'indices': {match}"):
        small_set.subset(indices)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mean": (0.5, 0.5)}, r"Invalid value for 'mean': expected 3 numbers"),
        ({"std": (0.0, 1.0, 1.0)}, r"Invalid value for 'std': expected 3 positive numbers"),
        ({"std": None}, r"Invalid value for 'std'"),
        ({"indices": [9]}, r"Invalid value for 'indices': positions 9 are outside"),
    ],
)
def test_bad_model_input_options(small_set, kwargs, match):
    with pytest.raises(InvalidArgumentError, match=match):
        small_set.to_tensor(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"categories": ()}, r"Invalid value for 'categories': expected distinct categories among car, boat"),
        ({"categories": ("car", "car")}, r"Invalid value for 'categories': expected distinct"),
        ({"categories": ("car", "truck")}, r"Invalid value for 'categories': expected one of car, boat.*got 'truck'"),
        ({"views_deg": ()}, r"Invalid value for 'views_deg': expected distinct finite yaws"),
        ({"views_deg": (0.0, np.nan)}, r"Invalid value for 'views_deg'"),
        ({"views_deg": (45.0, 45.0)}, r"Invalid value for 'views_deg'"),
        ({"backend": "gpu"}, r"Invalid value for 'backend': expected one of auto, numba, python"),
    ],
)
def test_bad_render_arguments(kwargs, match):
    with pytest.raises(InvalidArgumentError, match=match):
        render_objects(**{"categories": ("car",), "n_exemplars": 1, "size": 8, **kwargs})


def test_a_single_category_string_is_one_category():
    one = render_objects(categories="fruit", n_exemplars=1, views_deg=(0.0,), size=8, random_state=0)
    same = render_objects(categories=("fruit",), n_exemplars=1, views_deg=(0.0,), size=8, random_state=0)
    np.testing.assert_array_equal(one.images, same.images)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"yaw_deg": np.nan}, r"Invalid value for 'yaw_deg': expected a finite angle"),
        ({"camera_distance": 0.5}, r"Invalid value for 'camera_distance': expected a number > 1"),
        ({"fill": 0.0}, r"Invalid value for 'fill'"),
        ({"light": (1.0, 1.0, 1.0)}, r"Invalid value for 'light': expected a unit 3-vector"),
        ({"light": (0.0, 1.0)}, r"Invalid value for 'light'"),
    ],
)
def test_bad_render_mesh_arguments(kwargs, match):
    options = {"yaw_deg": 0.0, "size": 8, **kwargs}
    with pytest.raises(InvalidArgumentError, match=match):
        render_mesh(build_object("car", 0), options.pop("yaw_deg"), **options)


def test_bad_meshes():
    from rsa_mirror.stimuli import Mesh

    with pytest.raises(InvalidArgumentError, match=r"Invalid value for 'faces': vertex indices must lie in \[0, 2\]"):
        Mesh(np.zeros((3, 3)), [[0, 1, 3]], 0.5)
    with pytest.raises(InvalidArgumentError, match=r"Invalid value for 'vertices'"):
        Mesh(np.zeros((3, 2)), [[0, 1, 2]], 0.5)
    with pytest.raises(InvalidTypeError, match=r"Invalid type for 'mesh'"):
        render_mesh("car", 0.0)


@pytest.mark.parametrize(
    ("transforms", "match"),
    [
        (("hflip", "hflip"), r"Invalid value for 'transforms': expected distinct transforms among hflip, vflip, rot90"),
        ((), r"Invalid value for 'transforms'"),
        (("mirror",), r"Invalid value for 'transforms': expected one of hflip, vflip, rot90, got 'mirror'"),
    ],
)
def test_bad_transforms(small_set, transforms, match, toy_network):
    with pytest.raises(InvalidArgumentError, match=match):
        measure_equivariance(toy_network(), small_set, ["1"], transforms=transforms, device="cpu")


def test_rot90_of_non_square_images_is_refused_before_the_network_runs(toy_network):
    stimuli = StimulusSet(np.zeros((2, 4, 6)))
    with pytest.raises(InvalidArgumentError, match=r"rot90 needs square maps, got height x width \(4, 6\)"):
        measure_equivariance(toy_network(), stimuli, ["1"], transforms=("rot90",), device="cpu")


def test_save_refuses_what_it_cannot_store(tmp_path, small_set):
    with pytest.raises(InvalidArgumentError, match=r"Invalid value for 'path': expected a \.npz file"):
        small_set.save(tmp_path / "set.npy")
    objects = StimulusSet(small_set.images, {"tag": np.array([None, 1, "a", 2.0, 3, 4], dtype=object)})
    with pytest.raises(InvalidArgumentError, match=r"descriptors\['tag'\] holds Python objects"):
        objects.save(tmp_path / "set.npz")
    assert not (tmp_path / "set.npz").exists()


def test_every_error_is_a_package_error(small_set):
    for call in (
        lambda: StimulusSet(np.full((1, 2, 2), 255.0)),
        lambda: noise_images(0),
        lambda: resolve_device("gpu"),
        lambda: small_set.subset(object="zzz"),
    ):
        with pytest.raises(RsaMirrorError):
            call()


@pytest.mark.parametrize("content", [b"", b"ply\nformat ascii 1.0\nend_header\n", b"not a mesh at all"])
def test_a_corrupt_face_mesh_is_named(tmp_path, content):
    from rsa_mirror.stimuli import load_face_mesh

    path = tmp_path / "face.ply"
    path.write_bytes(content)
    with pytest.raises(FileFormatError, match=r"face\.ply: not a triangle mesh in PLY format"):
        load_face_mesh(path)


def test_a_face_mesh_archive_that_is_not_a_tar_is_named(tmp_path):
    from rsa_mirror.stimuli import fetch_face_mesh

    archive = tmp_path / "menpo3d-0.8.6.tar.gz"
    archive.write_bytes(b"not an archive")
    with pytest.raises(
        FileFormatError, match=r"menpo3d-0\.8\.6\.tar\.gz: not a readable menpo3d==0\.8\.6 source archive"
    ):
        fetch_face_mesh(tmp_path / "face.ply", archive=archive)
    assert not (tmp_path / "face.ply").exists()
