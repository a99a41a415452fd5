"""`python -m gateway [--port N]`: the same as `conveyor run gateway`."""

import os
import sys

from conveyor.settings import Settings
from gateway.main import main

sys.exit(main(Settings.from_env(os.environ), sys.argv[1:]))
