"""The parts of `invigil loadtest` (src/invigil/sim/loadtest.py): options, the lean wire client, the
simulated agents, the installation under test and the report."""
