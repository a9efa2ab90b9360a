"""``python -m fixup_rl.cli``: the ``fixup-rl`` command."""

from fixup_rl.cli import main

raise SystemExit(main())
