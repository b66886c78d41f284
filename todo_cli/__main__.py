"""`python -m todo_cli` is the `todo` command."""

from __future__ import annotations

import sys

from todo_cli.main import main

sys.exit(main())
