"""``python -m scaffold``."""

from __future__ import annotations

import sys

from scaffold.cli import main

sys.exit(main())
