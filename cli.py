"""`python cli.py ...` from a checkout: the same command as the installed `superbill`.

The command line itself lives in `superbill/cli.py` so it installs with the package.
"""

from superbill.cli import main

if __name__ == "__main__":
    main()
