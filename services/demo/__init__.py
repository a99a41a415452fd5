"""`conveyor demo`: the whole pipeline end to end on a local broker, as separate OS processes.

`plan` decides the traffic (pure and seeded), `stack` starts the processes, `traffic` drives the
gateway's HTTP API, `monitor` shows the live table, `outcome` checks the result and `run` ties
them together and cleans up.
"""

# Nothing is imported here: `conveyor --help` imports `demo.cli` (the command's signature) and
# must not pay for the demo itself. `demo.options.DemoOptions`, `demo.run.run_demo`.
