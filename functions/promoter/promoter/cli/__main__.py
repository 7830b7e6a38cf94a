"""``python -m promoter.cli``: the ``promoter`` console script."""

import sys

from promoter.cli import main

sys.exit(main())
