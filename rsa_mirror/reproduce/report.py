"""``report.html``: one self-contained page of the reproduction, a section per figure and supplement.

Each section shows the step's figures (PNG embedded as base64), its tables (from the step's CSV
files, numbers rounded to 3 decimals), a caption (networks, weights, stimuli, seeds, scale, run
time, computed or reused) and beside them the paper's corresponding finding. A failed step's
section gives its error. No external file, script, style sheet or font is referenced.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._utils import atomic_path

if TYPE_CHECKING:
    from .._typing import PathLike
    from .registry import Step

MAX_ROWS = 60
STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
section { border-top: 1px solid #ccc; padding-top: 1em; margin-top: 2em; }
.row { display: flex; gap: 2em; align-items: flex-start; }
.main { flex: 3; min-width: 0; } .paper { flex: 1; background: #f4f4f4; padding: 0.8em; font-size: 0.9em; }
img { max-width: 100%; display: block; margin-bottom: 0.8em; }
table { border-collapse: collapse; font-size: 0.75em; margin-bottom: 1em; }
td, th { border: 1px solid #ddd; padding: 2px 6px; text-align: right; }
.caption { font-size: 0.85em; color: #444; } .failed { color: #a00; } .note { font-size: 0.9em; color: #555; }
.scroll { overflow-x: auto; }
"""


def write_report(out: PathLike, manifest: dict[str, Any], registry: Mapping[str, Step]) -> Path:
    """Write ``out/report.html`` from the step folders named in ``manifest``; returns its path."""
    out = Path(out)
    failed = [name for name, record in manifest["steps"].items() if record["status"] == "failed"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>rsa_mirror {html.escape(manifest['version'])}: reproduction "
        f"({html.escape(manifest['profile'])})</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Mirror-symmetric viewpoint tuning: a reproduction with rsa_mirror</h1>",
        f"<p>rsa_mirror {html.escape(manifest['version'])}, profile <b>{html.escape(manifest['profile'])}</b>, "
        f"run {html.escape(manifest['started'])} (report written "
        f"{datetime.now(timezone.utc).isoformat(timespec='seconds')}), device {html.escape(manifest['device'])}, "
        f"ImageNet weights {'cached' if manifest['imagenet_weights_cached'] else 'not cached'}. "
        f"Farzmahdi, Zarco, Freiwald, Kriegeskorte and Golan, eLife 2024.</p>",
        '<p class="note">No number in this report was tuned toward the paper: every setting is fixed in '
        "rsa_mirror.reproduce.profiles before the run, and the paper's findings are shown beside the results "
        "for comparison only. Where ImageNet weights are not cached, the trained network is the shipped control "
        "network, not AlexNet, so the numbers answer the paper's questions for that network.</p>",
    ]
    if failed:
        parts.append(f'<p class="failed">Failed steps: {html.escape(", ".join(failed))} (sections below).</p>')
    parts.append(_contents(manifest, registry))
    for name, record in manifest["steps"].items():
        parts.append(_section(out, name, record, registry[name]))
    parts.append("</body></html>")
    path = out / "report.html"
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(parts), encoding="utf-8")
    return path


def _contents(manifest: dict[str, Any], registry: Mapping[str, Step]) -> str:
    rows = "".join(
        f"<tr><td style='text-align:left'><a href='#{name}'>{html.escape(registry[name].title)}</a></td>"
        f"<td>{record['status']}</td><td>{_seconds(record.get('seconds'))}</td></tr>"
        for name, record in manifest["steps"].items()
    )
    total = _seconds(manifest["wall_seconds"])
    return (
        "<table><tr><th>section</th><th>status</th><th>run time</th></tr>"
        f"{rows}<tr><td style='text-align:left'>this run, in all</td><td></td><td>{total}</td></tr></table>"
    )


def _section(out: Path, name: str, record: dict[str, Any], step: Step) -> str:
    title = html.escape(step.title)
    finding = f'<div class="paper"><b>The paper</b><p>{html.escape(step.finding)}</p></div>'
    if record["status"] == "failed":
        body = f'<p class="failed">This step failed: {html.escape(str(record["error"]))}</p>'
        body = f'<div class="main">{body}</div>'
        return f'<section id="{name}"><h2>{title}</h2><div class="row">{body}{finding}</div></section>'
    folder = out / record["folder"]
    marker = json.loads((folder / "step.json").read_text())
    caption = marker["caption"]
    images = "".join(_image(folder / figure, figure) for figure in caption.get("figures", []))
    tables = "".join(_table(folder / csv, text) for csv, text in caption.get("tables", []))
    how = "computed in this run" if record["status"] == "computed" else "reused from an earlier run (same key)"
    if record.get("recomputed_because"):
        how = f"computed again in this run: {html.escape(record['recomputed_because'])}"
    seeds = ", ".join(f"{key} {value}" for key, value in marker["settings"].items() if "seed" in key) or "none"
    text = (
        f"<b>Networks:</b> {html.escape('; '.join(caption.get('networks', [])))}. "
        f"<b>Stimuli:</b> {html.escape(caption.get('stimuli', ''))}. "
        f"<b>Scale:</b> {html.escape(caption.get('scale', ''))}. "
        f"<b>Seeds:</b> {html.escape(seeds)}. <b>Run time:</b> {_seconds(marker['seconds'])} ({how}; "
        f"torch threads {marker.get('torch_threads')}). <b>Files:</b> {html.escape(record['folder'])}/ "
        f"(key {record['key']})."
    )
    main = f'<div class="main">{images}<p class="caption">{text}</p><div class="scroll">{tables}</div></div>'
    return f'<section id="{name}"><h2>{title}</h2><div class="row">{main}{finding}</div></section>'


def _image(path: Path, name: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(name)}">'


def _table(path: Path, text: str) -> str:
    frame = pd.read_csv(path)
    frame = frame.rename(columns=lambda c: "" if str(c).startswith("Unnamed:") else c)  # an unnamed index
    more = f" (first {MAX_ROWS} of {len(frame)} rows; all in {Path(path).name})" if len(frame) > MAX_ROWS else ""
    shown = frame.head(MAX_ROWS).to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="", border=0)
    return f"<p class='caption'><b>{html.escape(text)}</b>{html.escape(more)}</p>{shown}"


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"
