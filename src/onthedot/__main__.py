"""`python -m onthedot` is the `onthedot` command."""

from onthedot.cli import main

main()
