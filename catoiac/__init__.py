"""catoiac: infrastructure as code for the Cato Networks SASE platform."""

__version__ = "0.1.0"
