"""``python -m platform_core.observability.nab --data DIR --labels FILE --out results.json``."""

from platform_core.observability.nab.cli import main

raise SystemExit(main())
