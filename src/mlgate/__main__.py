"""Allow ``python -m mlgate``."""

from mlgate.cli.main import main

raise SystemExit(main())
