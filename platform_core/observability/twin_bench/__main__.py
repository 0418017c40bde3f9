"""``python -m platform_core.observability.twin_bench [--seed N] [--quick]``."""

from platform_core.observability.twin_bench.cli import main

raise SystemExit(main())
