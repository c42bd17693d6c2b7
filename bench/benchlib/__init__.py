"""The harness behind bench/run.sh: workloads (cases.py), running them (runner.py), and the
table and JSON file (report.py)."""
