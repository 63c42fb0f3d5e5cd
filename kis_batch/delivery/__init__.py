"""Delivering the evening's outputs (docs/rules.md § Mail): plan.py decides who gets what from the
output declarations and the run's own records; a channel (email.py) delivers the plan; sentlog.py
remembers what every channel delivered, so a rerun delivers only what has not gone yet."""
