"""rsa-mirror reproduce: cached, resumable steps, failures reported, one self-contained report.html."""

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from rsa_mirror.cli.main import main
from rsa_mirror.cli.write import save_figure, write_csv
from rsa_mirror.errors import InvalidArgumentError
from rsa_mirror.reproduce import PROFILES, STEPS, Step, reproduce, runner
from rsa_mirror.reproduce.profiles import STEP_NAMES

ROOT = Path(__file__).resolve().parent.parent
# A script added to a copy of the report: after load, every image's natural width into the DOM.
CHECKER = (
    "<script>window.addEventListener('load', () => { const widths = [...document.images].map(i => i.naturalWidth);"
    " document.body.insertAdjacentHTML('beforeend', '<pre id=\"widths\">' + widths.join(',') + '</pre>'); });"
    "</script>"
)


def _table_step(settings, out, context):
    values = np.arange(settings.get("n", 3)) * settings.get("scale", 1.0)
    write_csv(pd.DataFrame({"x": values, "y": values**2}), out / "table.csv", index=False)
    figure, ax = plt.subplots(figsize=(2, 2))
    ax.plot(values, values**2)
    save_figure(figure, out / "figure.png")
    return {"networks": ["none"], "stimuli": "none", "scale": f"{len(values)} values",
            "tables": [["table.csv", "x and its square"]], "figures": ["figure.png"]}  # fmt: skip


def _failing_step(settings, out, context):
    raise ValueError("this step fails on purpose")


REGISTRY = {
    "alpha": Step("alpha", "Alpha section", "The paper's alpha finding.", _table_step),
    "broken": Step("broken", "Broken section", "The paper's broken finding.", _failing_step),
    "beta": Step("beta", "Beta section", "The paper's beta finding.", _table_step),
}
FAST = {"alpha": {"n": 3}, "beta": {"n": 5, "scale": 0.5}}


def _run(out, steps=("alpha", "beta"), settings=FAST):
    return reproduce("smoke", out, steps=list(steps), registry=REGISTRY, settings=settings, verbose=False)


def _files(out):
    """Relative path -> bytes of every file under out/steps."""
    root = Path(out) / "steps"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_failing_step_is_reported_while_the_others_finish(tmp_path):
    result = _run(tmp_path, steps=("alpha", "broken", "beta"))
    assert result.failed == ["broken"]
    assert [result.records[name]["status"] for name in ("alpha", "beta")] == ["computed", "computed"]
    table = pd.read_csv(tmp_path / result.records["beta"]["folder"] / "table.csv")
    np.testing.assert_allclose(table.y, (np.arange(5) * 0.5) ** 2)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["steps"]["broken"]["status"] == "failed"
    assert "ValueError: this step fails on purpose" in manifest["steps"]["broken"]["error"]
    report = (tmp_path / "report.html").read_text()
    assert "This step failed: ValueError: this step fails on purpose" in report
    assert "Failed steps: broken" in report
    assert "<td>1.500</td>\n      <td>2.250</td>" in report  # beta's row x = 3 * 0.5, rounded to 3 decimals
    assert report.count('<img src="data:image/png;base64,') == 2  # alpha's and beta's figures
    assert not [p for p in (tmp_path / "steps").iterdir() if p.name.startswith(".")]  # no temporaries left
    rerun = _run(tmp_path, steps=("alpha", "broken", "beta"))  # the failed step is tried again, the others reused
    assert {name: r["status"] for name, r in rerun.records.items()} == {
        "alpha": "reused", "broken": "failed", "beta": "reused"
    }  # fmt: skip


def test_the_command_exits_non_zero_after_the_others_finish(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(runner, "STEPS", REGISTRY)
    assert main(["reproduce", "--out", str(tmp_path), "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "1 of 3 steps failed (broken)" in captured.err
    assert re.search(r"alpha: computed \(\d+\.\d s\)", captured.out)
    command = json.loads((tmp_path / "manifest.json").read_text())["command"]
    assert command == ["rsa-mirror", "reproduce", "--profile", "smoke", "--out", str(tmp_path), "--n-jobs", "1",
                       "--device", "auto"]  # fmt: skip


def test_a_second_run_recomputes_nothing_and_a_changed_setting_only_its_step(tmp_path):
    first = _run(tmp_path / "a")
    files = _files(tmp_path / "a")
    marker = tmp_path / "a" / first.records["alpha"]["folder"] / "step.json"
    stamp = marker.stat().st_mtime_ns
    second = _run(tmp_path / "a")
    assert [r["status"] for r in second.records.values()] == ["reused", "reused"]
    assert _files(tmp_path / "a") == files and marker.stat().st_mtime_ns == stamp
    _run(tmp_path / "b")  # another folder, computed afresh: the same bytes
    assert {k: v for k, v in _files(tmp_path / "b").items() if not k.endswith(("step.json", "log.txt"))} == {
        k: v for k, v in files.items() if not k.endswith(("step.json", "log.txt"))
    }
    third = _run(tmp_path / "a", settings={**FAST, "beta": {"n": 6}})
    assert third.records["alpha"]["status"] == "reused" and third.records["beta"]["status"] == "computed"
    assert third.records["beta"]["key"] != first.records["beta"]["key"]
    assert len(pd.read_csv(tmp_path / "a" / third.records["beta"]["folder"] / "table.csv")) == 6


def test_the_key_hashes_name_settings_version_device_and_inputs(monkeypatch):
    key = runner.step_key("alpha", {"n": 3, "m": [1, 2]}, {"mesh": "abc"}, "cpu")
    assert key == runner.step_key("alpha", {"m": [1, 2], "n": 3}, {"mesh": "abc"}, "cpu")
    assert re.fullmatch(r"[0-9a-f]{16}", key)
    others = [
        runner.step_key("beta", {"n": 3, "m": [1, 2]}, {"mesh": "abc"}, "cpu"),
        runner.step_key("alpha", {"n": 4, "m": [1, 2]}, {"mesh": "abc"}, "cpu"),
        runner.step_key("alpha", {"n": 3, "m": [1, 2]}, {"mesh": "abd"}, "cpu"),
        runner.step_key("alpha", {"n": 3, "m": [1, 2]}, {"mesh": "abc"}, "cuda"),
    ]
    monkeypatch.setattr(runner, "code_hash", lambda: "another source")
    others.append(runner.step_key("alpha", {"n": 3, "m": [1, 2]}, {"mesh": "abc"}, "cpu"))
    monkeypatch.setattr(runner, "__version__", "0.0.0-other")
    others.append(runner.step_key("alpha", {"n": 3, "m": [1, 2]}, {"mesh": "abc"}, "cpu"))
    assert len({key, *others}) == 7


def test_the_source_hash_follows_every_python_file_and_nothing_else(tmp_path):
    package = tmp_path / "package"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n")
    (package / "sub" / "b.py").write_text("y = 2\n")
    first = runner.source_hash([package])
    digest = hashlib.sha256()
    for name, text in (("package/a.py", "x = 1\n"), ("package/sub/b.py", "y = 2\n")):
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    assert first == digest.hexdigest()
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "a.cpython.pyc").write_bytes(b"compiled")
    (package / "notes.txt").write_text("not code")
    assert runner.source_hash([package]) == first
    (package / "sub" / "b.py").write_text("y = 3\n")
    assert runner.source_hash([package]) != first
    assert runner.code_hash() == runner.code_hash() and re.fullmatch(r"[0-9a-f]{64}", runner.code_hash())


@pytest.mark.parametrize(
    "harm, reason",
    [
        (lambda folder: (folder / "table.csv").write_text("x,y\n0,0\n"), "table.csv changed"),
        (lambda folder: (folder / "figure.png").unlink(), "figure.png is missing"),
        (lambda folder: (folder / "extra.csv").write_text("a\n"), "extra.csv was added"),
        (lambda folder: (folder / "step.json").write_text("{not json"), "step.json cannot be read"),
    ],
)
def test_a_damaged_step_folder_is_computed_again(tmp_path, harm, reason):
    first = _run(tmp_path)
    files = _files(tmp_path)
    folder = tmp_path / first.records["alpha"]["folder"]
    harm(folder)
    with pytest.warns(UserWarning, match=f"step alpha: .* is computed again: .*{reason}"):
        second = _run(tmp_path)
    assert second.records["alpha"]["status"] == "computed" and reason in second.records["alpha"]["recomputed_because"]
    assert (
        second.records["beta"]["status"] == "reused" and second.records["alpha"]["key"] == first.records["alpha"]["key"]
    )
    kept = {k: v for k, v in _files(tmp_path).items() if not k.endswith(("step.json", "log.txt"))}
    assert kept == {k: v for k, v in files.items() if not k.endswith(("step.json", "log.txt"))}
    manifest = json.loads(second.manifest.read_text())
    assert reason in manifest["steps"]["alpha"]["recomputed_because"] and manifest["code_sha256"] == runner.code_hash()
    assert re.search(f"computed again in this run: [^)]*{reason}", second.report.read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [r["status"] for r in _run(tmp_path).records.values()] == ["reused", "reused"]


def test_unknown_steps_and_profiles_are_refused(tmp_path):
    with pytest.raises(InvalidArgumentError, match=r"'steps': unknown nope; the steps are alpha, broken, beta"):
        reproduce("smoke", tmp_path, steps=["alpha", "nope"], registry=REGISTRY, verbose=False)
    with pytest.raises(InvalidArgumentError, match="'profile'"):
        reproduce("huge", tmp_path, registry=REGISTRY, verbose=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["reproduce", "--out", str(tmp_path), "--steps", "nope"])
    assert exit_info.value.code == 2


def test_every_step_has_settings_in_every_profile_and_a_finding():
    assert tuple(STEPS) == STEP_NAMES
    for profile in PROFILES.values():
        assert set(profile) == set(STEPS)
    assert PROFILES["paper"]["figure2"]["n_exemplars"] * 81 == 2025
    assert PROFILES["paper"]["figure5"]["n_masks"] == 5000 and PROFILES["paper"]["figure6"]["n_bootstrap"] == 1000
    assert all(step.finding and step.title for step in STEPS.values())


def _check_in_chromium(chromium, report, tmp_path):
    """Every image of ``report`` loads in chromium and no console message is logged."""
    text = report.read_text()
    assert "<script" not in text and "<link" not in text and "url(" not in text
    assert not re.search(r"(src|href)=\"(?!data:image/png;base64,|#)", text)  # only embedded images, local anchors
    page = tmp_path / "report_checked.html"
    page.write_text(text.replace("</body>", CHECKER + "</body>"))
    dom, console = chromium(page)
    widths = re.search(r'<pre id="widths">([\d,]*)</pre>', dom)
    assert widths is not None, dom[-2000:]
    widths = [int(w) for w in widths.group(1).split(",") if w]
    assert len(widths) == text.count("<img ") > 0
    assert min(widths) > 0
    assert console == [], console


def test_the_report_opens_in_chromium_with_every_image_loaded(tmp_path, chromium):
    _run(tmp_path / "out", steps=("alpha", "broken", "beta"))
    _check_in_chromium(chromium, tmp_path / "out" / "report.html", tmp_path)


def _cli(out, *steps):
    command = [sys.executable, "-m", "rsa_mirror", "reproduce", "--out", str(out), "--quiet", "--steps", *steps]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _tables(out):
    return {k: v for k, v in _files(out).items() if k.endswith(".csv")}


@pytest.mark.slow
def test_a_run_killed_after_its_first_step_resumes_to_the_same_tables(tmp_path):
    steps = ("projection_symmetry", "pooling")
    killed = _cli(tmp_path / "killed", *steps)
    deadline = time.monotonic() + 300
    while not list((tmp_path / "killed" / "steps").glob("projection_symmetry-*/step.json")):
        assert killed.poll() is None, killed.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert not list((tmp_path / "killed" / "steps").glob("pooling-*/step.json"))  # killed inside pooling
    resumed = _cli(tmp_path / "killed", *steps)
    assert resumed.wait(timeout=300) == 0, resumed.communicate()
    manifest = json.loads((tmp_path / "killed" / "manifest.json").read_text())
    assert {name: manifest["steps"][name]["status"] for name in steps} == {
        "projection_symmetry": "reused", "pooling": "computed"
    }  # fmt: skip
    assert not [p for p in (tmp_path / "killed" / "steps").iterdir() if p.name.endswith(".tmp")]
    whole = _cli(tmp_path / "whole", *steps)
    assert whole.wait(timeout=300) == 0, whole.communicate()
    assert _tables(tmp_path / "killed") == _tables(tmp_path / "whole") != {}


@pytest.mark.slow
def test_a_dask_local_cluster_gives_the_same_tables(tmp_path):
    options = {"steps": ["weight_symmetry", "projection_symmetry"], "verbose": False}
    here = reproduce("smoke", tmp_path / "here", **options)
    cluster = reproduce("smoke", tmp_path / "dask", scheduler="local", n_jobs=2, **options)
    assert [r["status"] for r in cluster.records.values()] == ["computed", "computed"]
    assert _tables(tmp_path / "dask") == _tables(tmp_path / "here") != {}
    assert here.failed == cluster.failed == []


@pytest.mark.slow
def test_the_smoke_profile_end_to_end(tmp_path, chromium):
    from rsa_mirror.projection_symmetry import projection_symmetry
    from rsa_mirror.stimuli.objects import render_objects

    result = reproduce("smoke", tmp_path / "out", verbose=False)
    assert result.failed == [], {name: r["error"] for name, r in result.records.items() if r["error"]}
    assert [r["status"] for r in result.records.values()] == ["computed"] * len(STEPS)
    manifest = json.loads(result.manifest.read_text())
    assert manifest["libraries"]["numpy"] == np.__version__ and manifest["profile"] == "smoke"
    assert all(record["seconds"] > 0 for record in manifest["steps"].values())
    report = result.report.read_text()
    for step in STEPS.values():
        assert f'<section id="{step.name}"><h2>' in report and step.finding.split("“")[0][:30] in report
    assert report.count("<b>Networks:</b>") == len(STEPS)
    # Figure 2—S1's table is the study's own numbers, recomputed here from its documented settings.
    settings = PROFILES["smoke"]["projection_symmetry"]
    stimuli = render_objects(n_exemplars=settings["n_exemplars"], size=settings["size"], random_state=settings["seed"])
    expected = projection_symmetry(stimuli).pixel_index(key="category")
    folder = tmp_path / "out" / result.records["projection_symmetry"]["folder"]
    written = pd.read_csv(folder / "pixel_msvt_summary.csv", index_col=0)
    np.testing.assert_allclose(written["msvt_mean"], expected["msvt_mean"], rtol=1e-12)
    again = reproduce("smoke", tmp_path / "out", verbose=False)
    assert {r["status"] for r in again.records.values()} == {"reused"}
    _check_in_chromium(chromium, result.report, tmp_path)
