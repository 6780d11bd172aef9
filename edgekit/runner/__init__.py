"""The one self-contained file copied to boards (`board_runner.py`) and where to find it.

Nothing here may be imported by the runner itself: it runs on boards without edgekit.
"""

from pathlib import Path

RUNNER_PATH = Path(__file__).with_name("board_runner.py")
RUNNER_SCHEMA_VERSION = 1
