"""The chaos suite: services as real processes on a 3-node cluster, faults of every kind while
traffic flows, then checks of what must hold whatever happened.

- `plan`: the run's sizes and fault counts (small for `make test`, full for `make chaos`) and
  the traffic with the outcome each message must reach;
- `worker`: one process of the ordered or the unordered service under test;
- `publisher`: the traffic, paced, with every acknowledgement recorded;
- `fleet` and `faults`: the processes, and what is done to them and to the brokers;
- `observe` and `checks`: reading the outcome back, and judging it;
- `scenario`: one run from start to report; `__main__`: the command line.
"""
