"""The supervisor of `make up` (`python -m oms.launcher supervise`): a role that fails is
started again after a pause that doubles, with a line saying so, while the other roles
keep running; one that finishes (exit code 0) stays stopped; SIGTERM stops every role and
the supervisor exits 0."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path


def test_a_role_that_exits_is_restarted_with_backoff_and_the_others_keep_running(
    tmp_path: Path,
) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        f"steady: {sys.executable} -c \"import time; time.sleep(3600)\"\n"
        f"flaky: {sys.executable} -u -c \"print('flaky up'); raise SystemExit(3)\"\n"
        f"done: {sys.executable} -c pass\n")
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "oms.launcher", "supervise", "--procfile", str(procfile)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(5)  # flaky: runs at 0, 1 s and 3 s (pauses of 1 s, then 2 s)
    supervisor.send_signal(signal.SIGTERM)
    output, _ = supervisor.communicate(timeout=40)

    assert supervisor.returncode == 0, output
    lines = output.splitlines()
    # Each line is prefixed with its role's name, as honcho did.
    assert sum(re.fullmatch(r"\S+ flaky +\| flaky up", line) is not None
               for line in lines) >= 3, output
    assert sum("supervisor | flaky exited with code 3" in line for line in lines) >= 3
    assert any("flaky will be restarted in 1 s" in line for line in lines), output
    assert any("flaky will be restarted in 2 s" in line for line in lines), output
    # The steady role was started once and stopped only by SIGTERM.
    assert sum("supervisor | steady started" in line for line in lines) == 1, output
    assert not any("steady exited" in line for line in lines), output
    assert any("supervisor | steady stopped" in line for line in lines), output
    # A role that finished (exit code 0) is not started again.
    assert sum("supervisor | done started" in line for line in lines) == 1, output
    assert any("supervisor | done finished (exit code 0)" in line for line in lines), output
