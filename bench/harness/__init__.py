"""The comparison harness behind `python -m bench`: broker, data, peers' venv, runs, report."""
