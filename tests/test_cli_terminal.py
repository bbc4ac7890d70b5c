"""The demo export's progress in a real terminal: tmux at 80 columns, read with ``capture-pane``.

Skipped where tmux is missing. The export runs for real (a few seconds at the demo's pace); the
test polls the pane until the command has ended, bounded by ``DEADLINE`` seconds.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

DEADLINE = 60.0
COLUMNS = 80
COUNTERS = ("orders", "failed", "not found or denied", "req/s", "retries", "throttled", "held")


class Pane:
    """One detached tmux session of ``COLUMNS`` x 24 running a shell command."""

    def __init__(self, command: str) -> None:
        self.name = f"pc-export-{uuid.uuid4().hex[:8]}"
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", self.name, "-x", str(COLUMNS), "-y", "24"],
            check=True,
        )
        subprocess.run(["tmux", "send-keys", "-t", self.name, command, "Enter"], check=True)

    def text(self) -> str:
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def wait_for(self, marker: str) -> str:
        ends = time.monotonic() + DEADLINE
        while time.monotonic() < ends:
            if marker in (shown := self.text()):
                return shown
            time.sleep(0.1)
        pytest.fail(f"{marker!r} never appeared:\n{self.text()}")

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], check=False)


@pytest.fixture
def pane_for(tmp_path: Path) -> Iterator[type[Pane]]:
    made: list[Pane] = []

    class Made(Pane):
        def __init__(self, command: str) -> None:
            # clear: the typed command leaves the screen; EXIT""= is not the marker it prints
            super().__init__(
                f'cd {shlex.quote(str(tmp_path))} && clear && {command}; echo EXIT""=$?'
            )
            made.append(self)

    yield Made
    for pane in made:
        pane.close()


def export_command(*extra: str) -> str:
    return shlex.join(
        [
            sys.executable,
            "-m",
            "partnercenter_async",
            "export",
            "--demo",
            "--out",
            "o.jsonl",
            *extra,
        ]
    )


def bars(shown: str) -> list[str]:
    return [line for line in shown.splitlines() if line.startswith("customers ")]


def test_progress_fits_80_columns_with_every_counter(pane_for: type[Pane]) -> None:
    pane = pane_for(export_command("--requests-per-minute", "20000"))
    shown = pane.wait_for("EXIT=")
    assert "EXIT=0" in shown, shown
    [bar] = bars(shown)
    assert "300/300" in bar and "100%" in bar
    assert bar.count("━") >= 20, f"a bar of usable width: {bar!r}"
    for counter in COUNTERS:
        assert counter in shown, f"{counter!r} not shown at 80 columns:\n{shown}"
    assert all(len(line) <= COLUMNS and not line.endswith("…") for line in shown.splitlines())


def test_ctrl_c_leaves_one_progress_frame_and_the_resume_command(pane_for: type[Pane]) -> None:
    pane = pane_for(export_command("--requests-per-minute", "600"))
    pane.wait_for("customers ")
    pane.keys("C-c")
    shown = pane.wait_for("EXIT=")
    assert "EXIT=130" in shown, shown
    assert len(bars(shown)) == 1, f"the progress frame printed once:\n{shown}"
    assert "To continue:" in shown
