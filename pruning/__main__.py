import sys

from pruning.cli.main import main

sys.exit(main())
