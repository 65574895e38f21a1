"""Allow ``python -m mlgate``."""

from mlgate.cli.entry import main

raise SystemExit(main())
