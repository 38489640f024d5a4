"""``python -m skfral``: the same command line as the ``skfral`` script."""

import sys

from skfral.experiment._cli import main

if __name__ == "__main__":
    sys.exit(main())
