"""`python data/generate_sample.py [OUT_DIR]` writes the sample (default data/sample/).

A shim over the package data/sample_generator/; works from any cwd (Python puts data/ on the path).
"""

import sys

from sample_generator import main

if __name__ == "__main__":
    sys.exit(main(sys.argv))
