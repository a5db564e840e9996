"""The `custseg` command as a shell user meets it: version, `python -m custseg`, pipes."""

import math
import os
import shlex
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from custseg import cli
from custseg.report.build import progress_steps


def test_version_is_the_installed_distributions(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"custseg {version('custseg')}"


def test_python_dash_m_runs_the_same_command():
    installed = Path(sys.executable).with_name("custseg")
    done = subprocess.run([sys.executable, "-m", "custseg", "--help"], capture_output=True, text=True, check=True)
    for command in ("sample", "process", "reports", "run", "plan"):
        assert command in done.stdout
    assert done.stdout == subprocess.run([installed, "--help"], capture_output=True, text=True, check=True).stdout


def test_a_reader_that_leaves_early_gets_no_traceback(processed_sample):
    # `custseg plan | true`: the reader has gone long before the plan is written (loading takes
    # a second), so the write meets a closed pipe, as with `| head` on a long listing
    config, _ = processed_sample
    command = [sys.executable, "-m", "custseg", "plan", "--config", str(config.source)]
    shell = subprocess.run(f"{shlex.join(command)} | true; echo \"$PIPESTATUS\"",
                           shell=True, executable="/bin/bash", capture_output=True, text=True)
    assert shell.stderr == ""
    assert shell.stdout.split() == ["141"]  # 128 + SIGPIPE, as a shell tool ends on a closed pipe
    assert "overview" in subprocess.run(command, capture_output=True, text=True, check=True).stdout


def test_progress_in_a_log_file_is_lines_not_frames(tmp_path):
    log = tmp_path / "build.log"
    with log.open("w") as stream:
        assert list(progress_steps(iter(range(45)), 45, "studies", stream)) == list(range(45))
    lines = log.read_text().splitlines()
    assert "\r" not in log.read_text()
    # a line at each tenth of the way (45 studies: after 5, 9, 14, ...), the last at the end
    tenths = [math.ceil(45 * k / 10) for k in range(1, 11)]
    assert [line.split(" of ")[0] for line in lines] == [f"studies: {n}" for n in tenths]
    assert lines[-1].startswith("studies: 45 of 45 done (100%), ")


def test_progress_on_a_terminal_is_a_bar():
    leader, follower = os.openpty()
    with os.fdopen(follower, "w") as terminal:
        assert list(progress_steps(iter(range(3)), 3, "studies", terminal)) == [0, 1, 2]
    shown = os.read(leader, 4096).decode()
    os.close(leader)
    assert "\r" in shown and "3/3" in shown
