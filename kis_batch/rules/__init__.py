"""The department's rules (docs/rules.md § Rules), one module per domain: pure functions from the
ingested tables to each output's rows and figures. What several rules share is in `common`.
"""
