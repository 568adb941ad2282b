"""Named, versioned experiments and the ``neurosoup`` CLI.

Map of the package:
    registry.py   ScenarioSpec, register, make, list_scenarios (did-you-mean errors)
    soup.py       the registered soups (registrations only)
    organism.py   the registered organism networks;  quine.py  the registered quines
    serann.py     the registered SeRANN evolutions (kind ``evolution``)
    files.py      TOML scenario files: ``extends = "soup/journal-v1"`` plus overrides
    runner.py     run a scenario into a run file, resume one; the reference comparison table
    sweep.py      grid points × replicates on any executor (local pool, Dask); index.csv
    cli.py        the ``neurosoup`` command line
    examples/     an example user rule (``noisy_attack``) and scenario file
"""

from . import organism as _organism  # noqa: F401 - registrations
from . import quine as _quine  # noqa: F401 - registrations
from . import serann as _serann  # noqa: F401 - registrations
from . import soup as _soup  # noqa: F401 - registrations
from .registry import ScenarioSpec, list_scenarios, make, register, spec

__all__ = ["ScenarioSpec", "list_scenarios", "make", "register", "spec"]
