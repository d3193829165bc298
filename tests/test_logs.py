from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from structlog.testing import capture_logs

from contentgen.logs import get_logger

PROBE = """
from contentgen.logs import configure, get_logger
{setup}
log = get_logger()
log.info("an_info_event", n=1)
log.warning("a_warning_event", n=2)
"""


def run(setup: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROBE.format(setup=setup)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_library_events_go_to_stderr_at_warning_by_default() -> None:
    done = run("")
    assert done.stdout == ""
    assert "a_warning_event" in done.stderr and "an_info_event" not in done.stderr


def test_configure_sets_the_level() -> None:
    done = run("configure('info')")
    assert done.stdout == "" and "an_info_event" in done.stderr


def test_capture_logs_sees_info_events_even_after_first_use(tmp_path: Path) -> None:
    get_logger().info("warm_up")  # makes contentgen configure structlog
    with capture_logs() as logs:
        get_logger().info("captured_event", key="value")
    assert {"event": "captured_event", "key": "value", "log_level": "info"} in logs
