"""Nothing lost: writes killed midway leave the old file, and their temporaries are cleaned up."""

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np

from rsa_mirror._utils import atomic_path

KILLED_WRITER = """
import os, signal, sys
from rsa_mirror._utils import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    with open(tmp, "wb") as stream:
        stream.write(b"half of the new content")
        stream.flush()
        os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_write_keeps_the_old_file_and_the_next_write_removes_its_temporary(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old\n")
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(KILLED_WRITER), str(target)], timeout=60)
    assert done.returncode == -signal.SIGKILL
    assert target.read_text() == "old\n"
    orphans = list(tmp_path.glob(".table.csv.*.part.csv"))
    assert len(orphans) == 1 and orphans[0].read_bytes() == b"half of the new content"
    with atomic_path(target) as tmp:
        tmp.write_text("new\n")
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]


def test_temporaries_of_running_writers_and_of_other_targets_are_left_alone(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        running = tmp_path / f".data.npz.{sleeper.pid}.abcd.part.npz"
        running.write_bytes(b"being written")
        other = tmp_path / ".other.npz.1.abcd.part.npz"
        other.write_bytes(b"another target")
        legacy = tmp_path / ".data.npz.k2j4x8.part.npz"  # no writer id: left by a killed writer
        legacy.write_bytes(b"old temporary")
        with atomic_path(tmp_path / "data.npz") as tmp, open(tmp, "wb") as stream:
            np.savez(stream, x=np.arange(3))
        assert running.exists() and other.exists() and not legacy.exists()
        assert np.load(tmp_path / "data.npz")["x"].tolist() == [0, 1, 2]
    finally:
        sleeper.kill()
        sleeper.wait()
    assert os.path.exists(tmp_path / "data.npz")


def test_a_failed_write_removes_its_temporary_at_once(tmp_path):
    target = tmp_path / "figure.png"
    try:
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"partial")
            raise RuntimeError("plotting failed")
    except RuntimeError:
        pass
    assert list(tmp_path.iterdir()) == []
