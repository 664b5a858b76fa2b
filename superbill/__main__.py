"""`python -m superbill ...`: the same command as the installed `superbill`."""

from superbill.cli import main

main()
