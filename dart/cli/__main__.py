"""``python -m dart.cli VERB ...`` is ``dart VERB ...`` (torchrun relaunches this way)."""

import sys

from dart.cli.main import main

sys.exit(main())
