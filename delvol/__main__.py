"""``python -m delvol`` runs the command-line interface."""

from delvol.cli import main

raise SystemExit(main())
