"""`python -m edtune ...`: the same command line as the `edtune` script."""

from edtune.cli import main

main()
