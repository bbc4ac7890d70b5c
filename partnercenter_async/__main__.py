"""``python -m partnercenter_async``: the ``partnercenter-async`` command."""

import sys

from ._cli import main

sys.exit(main())
