"""`python -m backdrop` runs the command line."""

from backdrop.cli import main

main()
