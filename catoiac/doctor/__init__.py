"""``catoiac doctor``: endpoint, key, account, permissions, schema drift, rate limits and clock,
checked against the live API before they break a deploy."""

from .report import DoctorReport
from .run import Doctor, DoctorOptions, run_doctor

__all__ = ["Doctor", "DoctorOptions", "DoctorReport", "run_doctor"]
