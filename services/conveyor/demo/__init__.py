"""`conveyor demo`: the whole pipeline end to end on a local broker, as separate OS processes.

`plan` decides the traffic (pure and seeded), `stack` starts the processes, `traffic` drives the
gateway's HTTP API, `monitor` shows the live table, `outcome` checks the result and `run` ties
them together and cleans up.
"""

from conveyor.demo.options import DemoOptions
from conveyor.demo.run import run_demo

__all__ = ["DemoOptions", "run_demo"]
