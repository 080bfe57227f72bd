"""Drift reports that explain themselves: what differs between the stacks' state and Cato, who
changed it (from Cato's audit feed), and whether it is known, ignored drift.

``catoiac drift`` (run.py), ``catoiac review`` (review.py) and ``catoiac audit`` (trail.py).
"""

from .report import SCHEMA_VERSION, DriftReport, Finding
from .run import DriftOptions, run_drift

__all__ = ["SCHEMA_VERSION", "DriftOptions", "DriftReport", "Finding", "run_drift"]
