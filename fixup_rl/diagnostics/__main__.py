"""``python -m fixup_rl.diagnostics``: see ``python -m fixup_rl.diagnostics --help``."""

from fixup_rl.diagnostics.cli import main

raise SystemExit(main())
