"""`python -m review <command>`: the offline review tool's entry point."""

from review.cli import main

raise SystemExit(main())
