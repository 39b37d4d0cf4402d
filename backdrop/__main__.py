"""`python -m backdrop` runs the command line."""

from backdrop.cli import entry_point

entry_point()
