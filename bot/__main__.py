"""`python -m bot` is `dariger`."""

from bot.cli import main

raise SystemExit(main())
