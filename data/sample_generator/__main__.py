"""`python -m sample_generator [OUT_DIR]` from data/; from the root, `-m data.sample_generator`."""

import sys

from .build import main

if __name__ == "__main__":
    sys.exit(main(sys.argv))
