"""`python -m digitcore` is the `digitcore` command."""

import sys

from .cli import main

sys.exit(main())
