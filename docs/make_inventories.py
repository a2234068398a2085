"""Write the intersphinx inventories under ``docs/_inventories/`` (offline builds).

The documentation build must not need the network, so ``conf.py`` points intersphinx at local
files. This script makes them: for each project, the names the documentation links to (type
hints and ``:class:``/``:func:`` roles, listed in ``NAMES``), each checked by importing it from
the installed package, with the address that the project's own documentation gives that name
(``uri``). The files are small ``objects.inv`` inventories in Sphinx's format, written with
sphobjinv (``pip install sphobjinv``, needed only here). After adding a name to ``NAMES``, rerun
``python docs/make_inventories.py`` and commit the output; ``sphinx-build -n`` lists the names
the documentation links to that no inventory holds.

Where torch (an optional extra) is not installed, its names are written unchecked.
"""

import importlib
import inspect
from pathlib import Path

import sphobjinv as soi

OUT = Path(__file__).resolve().parent / "_inventories"

# project -> the names the documentation links to (type hints included: their canonical module paths)
NAMES = {
    "python": [
        "int",
        "float",
        "str",
        "bool",
        "dict",
        "list",
        "tuple",
        "object",
        "bytes",
        "type",
        "Exception",
        "ValueError",
        "TypeError",
        "ImportError",
        "FileNotFoundError",
        "KeyError",
        "pathlib.Path",
        "os.PathLike",
        "collections.abc.Mapping",
        "collections.abc.Sequence",
        "collections.abc.Callable",
        "collections.abc.Iterable",
        "typing.Any",
        "typing.Callable",
        "typing.Optional",
        "typing.Union",
    ],
    "numpy": [
        "numpy.ndarray",
        "numpy.memmap",
        "numpy.dtype",
        "numpy.int64",
        "numpy.float32",
        "numpy.float64",
        "numpy.random.Generator",
        "numpy.random.SeedSequence",
        "numpy.random.default_rng",
        "numpy.corrcoef",
    ],
    "scipy": [
        "scipy.io.savemat",
        "scipy.io.loadmat",
        "scipy.spatial.distance.pdist",
        "scipy.stats.rankdata",
        "scipy.stats.wilcoxon",
        "scipy.stats.ranksums",
    ],
    "matplotlib": ["matplotlib.figure.Figure", "matplotlib.axes.Axes", "matplotlib.pyplot.subplots"],
    "pandas": ["pandas.DataFrame", "pandas.Series", "pandas.read_csv"],
    "torch": [
        "torch.Tensor",
        "torch.device",
        "torch.dtype",
        "torch.Generator",
        "torch.compile",
        "torch.load",
        "torch.inference_mode",
        "torch.nn.Module",
        "torch.nn.Sequential",
        "torch.nn.Module.state_dict",
        "torch.nn.Module.load_state_dict",
        "torch.Tensor.share_memory_",
        "torch.nn.modules.module.Module",
        "torch.nn.modules.container.Sequential",
    ],
    "rsatoolbox": [
        "rsatoolbox.rdm.RDMs",
        "rsatoolbox.rdm.rdms.RDMs",
        "rsatoolbox.data.Dataset",
        "rsatoolbox.data.dataset.Dataset",
        "rsatoolbox.rdm.calc_rdm",
        "rsatoolbox.rdm.calc.calc_rdm",
        "rsatoolbox.rdm.compare",
        "rsatoolbox.rdm.load_rdm",
        "rsatoolbox.inference.eval_bootstrap_pattern",
        "rsatoolbox.inference.bootstrap.bootstrap_sample_pattern",
        "rsatoolbox.util.inference_util.bootstrap_pair_tests",
    ],
}
ALIASES = {  # a name the docs use -> the name under which its project documents it
    "rsatoolbox.rdm.RDMs": "rsatoolbox.rdm.rdms.RDMs",
    "rsatoolbox.data.Dataset": "rsatoolbox.data.dataset.Dataset",
    "rsatoolbox.rdm.calc_rdm": "rsatoolbox.rdm.calc.calc_rdm",
    "torch.nn.modules.module.Module": "torch.nn.Module",
    "torch.nn.modules.container.Sequential": "torch.nn.Sequential",
}
STDTYPES = {"str", "dict", "list", "tuple", "bytes"}


def uri(project, name):
    """The address of ``name`` in ``project``'s documentation, relative to its base."""
    name = ALIASES.get(name, name)
    module = name.rsplit(".", 1)[0] if "." in name else ""
    if project == "python":
        if "." not in name:
            if name.endswith("Error") or name == "Exception":
                return "library/exceptions.html#" + name
            return ("library/stdtypes.html#" if name in STDTYPES else "library/functions.html#") + name
        return f"library/{module}.html#{name}"
    if project == "numpy":
        if name in ("numpy.random.Generator", "numpy.random.default_rng"):
            return "reference/random/generator.html#" + name
        if name == "numpy.random.SeedSequence":
            return "reference/random/bit_generators/generated/numpy.random.SeedSequence.html#" + name
        if name in ("numpy.int64", "numpy.float32", "numpy.float64"):
            return "reference/arrays.scalars.html#" + name
        return f"reference/generated/{name}.html#{name}"
    if project == "scipy":
        return f"reference/generated/{name}.html#{name}"
    if project == "matplotlib":
        return f"api/_as_gen/{name}.html#{name}"
    if project == "pandas":
        return f"reference/api/{name}.html#{name}"
    if project == "torch":
        if name == "torch.Tensor":
            return "tensors.html#torch.Tensor"
        if name in ("torch.device", "torch.dtype"):
            return "tensor_attributes.html#" + name
        owner = name if name.count(".") < 3 or not name.split(".")[-1].islower() else name.rsplit(".", 1)[0]
        if name.startswith("torch.nn.Module."):
            owner = "torch.nn.Module"
        return f"generated/{owner}.html#{name}"
    if project == "rsatoolbox":
        package = ".".join(name.split(".")[:2])
        return f"{package}.html#{name}"
    raise ValueError(project)


def role(name):
    """The Sphinx role of ``name`` (class, exception, function, method, ...), from the installed package."""
    parts = name.split(".")
    try:
        if len(parts) == 1:
            obj = __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
        else:
            for cut in range(len(parts) - 1, 0, -1):
                try:
                    obj = importlib.import_module(".".join(parts[:cut]))
                except ImportError:
                    continue
                for attribute in parts[cut:]:
                    obj = getattr(obj, attribute)
                break
    except (ImportError, AttributeError, KeyError) as error:
        raise SystemExit(f"{name}: not found in the installed package ({error})") from error
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if len(parts) > 2 and inspect.isclass(_owner(parts)):
        return "method"
    return "function" if callable(obj) else "data"


def _owner(parts):
    try:
        return getattr(importlib.import_module(".".join(parts[:-2])), parts[-2])
    except (ImportError, AttributeError):
        return None


def main():
    """Write one ``<project>.inv`` per project."""
    OUT.mkdir(exist_ok=True)
    for project, names in NAMES.items():
        inventory = soi.Inventory()
        inventory.project, inventory.version = project, "local"
        for name in names:
            try:
                kind = role(name)
            except SystemExit as error:
                if project != "torch":
                    raise
                print(f"unchecked (torch not installed): {error}")
                kind = (
                    "method" if name.count(".") > 2 else ("class" if name.split(".")[-1][0].isupper() else "function")
                )
            inventory.objects.append(
                soi.DataObjStr(name=name, domain="py", role=kind, priority="1", uri=uri(project, name), dispname="-")
            )
        (OUT / f"{project}.inv").write_bytes(soi.compress(inventory.data_file(contract=True)))
        print(f"{project}: {len(names)} names -> {OUT / (project + '.inv')}")


if __name__ == "__main__":
    main()
