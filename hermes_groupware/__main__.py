"""``python -m hermes_groupware``."""

import sys

from hermes_groupware.cli import main

sys.exit(main())
