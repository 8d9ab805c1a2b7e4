"""`python -m msakeras`: the `msakeras` command (see `msakeras.cli`)."""

import sys

from msakeras.cli import main

sys.exit(main())
