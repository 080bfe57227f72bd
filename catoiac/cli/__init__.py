"""The ``catoiac`` command line: one module per command family, registered on ``main``."""

from __future__ import annotations

import click


@click.group()
@click.version_option(package_name="catoiac")
def main() -> None:
    """Infrastructure as code for Cato Networks: drift reports, change reviews, a local emulator."""


# Command modules register themselves on ``main`` when imported.
from . import audit, catalog, doctor, drift, emulator, health, importer, ls, review  # noqa: E402, F401  # noqa: E402, F401
