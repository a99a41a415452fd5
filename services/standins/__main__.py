import os
import sys

from conveyor.settings import Settings
from standins.main import main

sys.exit(main(Settings.from_env(os.environ), sys.argv[1:]))
