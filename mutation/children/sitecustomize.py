"""On PYTHONPATH during mutation runs only (mutation/score.py): child processes run the mutant.

mutmut switches a mutant on through the ``MUTANT_UNDER_TEST`` variable, which every process a
test starts inherits; with ``mutants/src`` on ``PYTHONPATH`` as well, a child (an IPython shell,
the CLI, a fake Drive daemon) imports the mutated code and runs the same mutant as the test.
One exception: while mutmut maps tests to functions (``MUTANT_UNDER_TEST=stats``), the mutated
code records each call through mutmut's configuration, which it reads from the current folder,
a test's temporary one there: a child then runs the original code instead.
"""

import os

if os.environ.get("MUTANT_UNDER_TEST") == "stats":
    os.environ["MUTANT_UNDER_TEST"] = ""
