"""Rendered stimuli: mirror symmetry by construction, determinism, backends, the face mesh."""

import hashlib
import io
import tarfile

import numpy as np
import pytest

from rsa_mirror.stimuli import (
    CATEGORIES,
    FACE_MESH_PATH,
    SYMMETRY_PLANES,
    build_object,
    ellipsoid,
    fetch_face_mesh,
    load_face_mesh,
    render_faces,
    render_mesh,
    render_objects,
)

needs_face_mesh = pytest.mark.skipif(
    not FACE_MESH_PATH.exists(), reason="face mesh not fetched: run 'rsa-mirror fetch-face-mesh' (make does it)"
)


def mirror_correlation(stimuli, view):
    """Per object: r between the image at +view and the flipped image at -view."""
    values = []
    for obj in np.unique(stimuli.descriptors["object"]):
        plus = stimuli.subset(object=obj, view_deg=view).images[0]
        minus = stimuli.subset(object=obj, view_deg=-view).images[0]
        values.append(np.corrcoef(plus.ravel(), minus[:, ::-1].ravel())[0, 1])
    return np.array(values)


@pytest.fixture(scope="module")
def rendered():
    return render_objects(n_exemplars=3, views_deg=(-67.5, -22.5, 0.0, 22.5, 67.5), size=96, random_state=0)


def test_set_layout_and_descriptors(rendered):
    assert rendered.images.shape == (9 * 3 * 5, 96, 96)
    assert list(np.unique(rendered.descriptors["category"])) == sorted(CATEGORIES)
    first = rendered.subset(object="car_00")
    np.testing.assert_array_equal(first.descriptors["view_deg"], [-67.5, -22.5, 0.0, 22.5, 67.5])
    assert set(rendered.descriptors["symmetry_planes"][rendered.descriptors["category"] == "boat"]) == {2}
    assert rendered.masks.any(axis=(1, 2)).all()  # every image shows its object


@pytest.mark.parametrize("category", [c for c in CATEGORIES if SYMMETRY_PLANES[c] > 0])
def test_symmetric_categories_render_mirror_images(rendered, category):
    views = rendered.subset(category=category)
    for view in (22.5, 67.5):
        assert mirror_correlation(views, view).min() > 0.999


@pytest.mark.parametrize("category", ["fruit", "flower"])
def test_asymmetric_categories_do_not(rendered, category):
    assert mirror_correlation(rendered.subset(category=category), 67.5).max() < 0.99


def test_luminance_is_equalized(rendered):
    foreground = rendered.masks
    means = np.array([image[mask].mean() for image, mask in zip(rendered.images, foreground, strict=True)])
    stds = np.array([image[mask].std() for image, mask in zip(rendered.images, foreground, strict=True)])
    unclipped = (rendered.images[foreground].min() > 0) and (rendered.images[foreground].max() < 1)
    assert np.ptp(means) < (1e-5 if unclipped else 0.02)
    assert np.ptp(stds) < (1e-5 if unclipped else 0.02)
    assert np.all(rendered.images[~foreground] == 0.5)


def test_same_seed_same_images_and_exemplars_differ():
    options = {"n_exemplars": 2, "views_deg": (0.0,), "size": 48, "random_state": 5}
    a = render_objects(categories=("chair", "fruit"), **options)
    np.testing.assert_array_equal(a.images, render_objects(categories=("chair", "fruit"), **options).images)
    # an exemplar's shape does not depend on the other categories rendered with it
    # (luminance matching does, since it uses the set's averages)
    raw = render_objects(categories=("chair", "fruit"), equalize_luminance=False, **options)
    alone = render_objects(categories=("fruit",), equalize_luminance=False, **options)
    np.testing.assert_array_equal(raw.subset(category="fruit").images, alone.images)
    for category in ("chair", "fruit"):  # exemplars differ in shape: silhouettes overlap < 90 %
        first, second = a.subset(category=category).masks
        assert (first & second).sum() / (first | second).sum() < 0.9


def test_python_backend_matches_numba():
    mesh = build_object("animal", np.random.default_rng(1))
    fast, fast_cov = render_mesh(mesh, 30.0, size=40, backend="numba")
    slow, slow_cov = render_mesh(mesh, 30.0, size=40, backend="python")
    np.testing.assert_allclose(fast, slow, atol=1e-6)
    np.testing.assert_array_equal(fast_cov, slow_cov)


def test_lambertian_shading_of_a_sphere():
    """Pixel intensity at the sphere's centre: albedo x (0.3 + 0.7 cos(angle to the light))."""
    image, coverage = render_mesh(ellipsoid(albedo=0.8, segments=64, rings=32), 0.0, size=101, supersample=1)
    centre = image[50, 50]
    # the surface normal at the centre points at the camera (+z); the light is 0.55 up, 1 forward
    expected = 0.8 * (0.3 + 0.7 * 1.0 / np.hypot(0.55, 1.0))
    assert centre == pytest.approx(expected, abs=0.01)
    assert coverage[50, 50] == 1.0 and coverage[0, 0] == 0.0


def test_fetch_checks_the_hash(tmp_path):
    archive = tmp_path / "menpo3d-0.8.6.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        payload = b"ply\nnot the template\n"
        info = tarfile.TarInfo("menpo3d-0.8.6/menpo3d/data/template.ply")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    with pytest.raises(RuntimeError, match="SHA-256 .* expected 2c9898e9"):
        fetch_face_mesh(tmp_path / "face.ply", archive=archive)
    assert not (tmp_path / "face.ply").exists()
    with pytest.raises(FileNotFoundError, match="rsa-mirror fetch-face-mesh"):
        load_face_mesh(tmp_path / "face.ply")


@needs_face_mesh
def test_fetch_writes_to_the_user_data_folder_when_the_package_is_read_only(tmp_path, monkeypatch):
    from rsa_mirror.stimuli import faces

    archive = tmp_path / "menpo3d-0.8.6.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(FACE_MESH_PATH, arcname="menpo3d-0.8.6/menpo3d/data/template.ply")
    monkeypatch.setenv("RSA_MIRROR_DATA", str(tmp_path / "user"))
    monkeypatch.setattr(faces, "FACE_MESH_PATH", tmp_path / "site-packages" / "data" / "face_template.ply")
    monkeypatch.setattr(faces.os, "access", lambda path, mode: False)  # a folder this user cannot write
    written = fetch_face_mesh(archive=archive)
    assert written == tmp_path / "user" / "face_template.ply"
    assert written.read_bytes() == FACE_MESH_PATH.read_bytes()
    assert not faces.FACE_MESH_PATH.exists()
    faces.load_face_mesh.cache_clear()
    try:
        assert np.array_equal(faces.load_face_mesh().vertices, faces.load_face_mesh(FACE_MESH_PATH).vertices)
    finally:
        faces.load_face_mesh.cache_clear()
    monkeypatch.setenv("RSA_MIRROR_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="nowhere/face_template.ply: run 'rsa-mirror fetch-face-mesh'"):
        faces.load_face_mesh()


def test_user_data_folder_follows_the_environment(monkeypatch, tmp_path):
    from rsa_mirror.stimuli.faces import user_face_mesh_path

    monkeypatch.delenv("RSA_MIRROR_DATA", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert user_face_mesh_path() == tmp_path / "xdg" / "rsa_mirror" / "face_template.ply"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_face_mesh_path() == tmp_path / "home" / ".local" / "share" / "rsa_mirror" / "face_template.ply"


def test_a_downloaded_archive_with_another_hash_is_not_used(tmp_path, monkeypatch):
    from rsa_mirror.stimuli import faces

    class Response(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(faces.urllib.request, "urlopen", lambda url, timeout: Response(b"tampered"))
    with pytest.raises(RuntimeError, match="menpo3d-0.8.6.tar.gz has SHA-256 .* expected 96ad2c8b"):
        fetch_face_mesh(tmp_path / "face.ply")
    assert not (tmp_path / "face.ply").exists()


@needs_face_mesh
def test_face_mesh_is_the_published_template_made_exactly_symmetric():
    digest = hashlib.sha256(FACE_MESH_PATH.read_bytes()).hexdigest()
    assert digest == "2c9898e9582ac2fd76131e5757f063315cbe8781ffbd036e2bb5f1bd1fa8215e"
    mesh = load_face_mesh()
    assert np.linalg.norm(mesh.vertices, axis=1).max() == pytest.approx(1.0)
    mirrored = mesh.vertices * [-1, 1, 1]
    order = np.lexsort(mesh.vertices.T)
    np.testing.assert_allclose(mesh.vertices[order], mirrored[np.lexsort(mirrored.T)], atol=1e-12)


@needs_face_mesh
def test_rendered_faces_are_mirror_symmetric_identities():
    faces = render_faces(n_identities=3, size=80, random_state=2)
    assert faces.images.shape == (15, 80, 80)
    assert set(faces.descriptors["mesh"]) == {"menpo3d template"}
    assert mirror_correlation(faces, 45.0).min() > 0.999
    assert mirror_correlation(faces, 90.0).min() > 0.999
    frontal = faces.subset(view_deg=0.0).images
    assert np.abs(frontal[0] - frontal[1]).mean() > 0.005  # identities differ
