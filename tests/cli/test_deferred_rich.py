"""The rich stand-ins of :mod:`chainrule.cli.deferred_rich`: ``--help`` loads neither Markdown's
parser nor rich's traceback, and code that does use them gets the real classes. Each check runs
in a fresh process, where the stand-ins are not yet replaced."""

from __future__ import annotations

import subprocess
import sys

HELP_LOADS = """
import sys
sys.argv = ["chainrule", "--help"]
from chainrule.cli.main import main
try:
    main()
except SystemExit:
    pass
print("LOADED", sorted(m for m in ("markdown_it", "pygments", "rich.pretty") if m in sys.modules))
"""

REAL_AFTER_DEFER = """
import sys
from chainrule.cli.deferred_rich import defer_rich_imports
defer_rich_imports()
from rich.markdown import Markdown
from rich.traceback import Traceback
markdown = Markdown("# title")
try:
    1 / 0
except ZeroDivisionError as exc:
    trace = Traceback.from_exception(type(exc), exc, exc.__traceback__)
import rich.markdown, rich.traceback
print(type(markdown).__module__, type(markdown).__name__, type(trace).__name__,
      hasattr(rich.markdown, "Heading"), type(rich.traceback.Traceback).__name__)
"""


def _python(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_help_imports_no_markdown_parser_or_traceback_renderer():
    assert _python(HELP_LOADS).splitlines()[-1] == "LOADED []"


def test_stand_ins_hand_over_to_the_real_classes():
    assert _python(REAL_AFTER_DEFER).split() == ["rich.markdown", "Markdown", "Traceback", "True", "type"]
