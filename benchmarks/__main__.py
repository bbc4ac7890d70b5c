"""``python -m benchmarks``: run the benchmark suite."""

from .run import main

raise SystemExit(main())
