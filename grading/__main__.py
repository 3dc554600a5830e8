import sys

from .classgrade import main

sys.exit(main())
