"""``catoiac import``: a Pulumi program that declares what a live Cato account holds, written from
the shared bulk read, whose first ``pulumi up`` adopts every object with no change to Cato.

``collect`` reads the account into items (generic over the resource specs, ``HOOKS`` per type),
``render`` names them and writes their modules, ``project`` writes the project folder.
"""

from .project import ForeignFolderError, ImportOptions, ImportResult, describe, run_import

__all__ = ["ForeignFolderError", "ImportOptions", "ImportResult", "describe", "run_import"]
