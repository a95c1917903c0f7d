"""`python -m formflow.cli`."""

from formflow.cli import main

main()
