"""``python -m geo.cli``: the ``bigcats`` command."""

from geo.cli import main

raise SystemExit(main())
