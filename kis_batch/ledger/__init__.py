"""The department's memory across months (docs/rules.md § A month's life): rows.py keeps typed rows
in the history and tells a month's rows per file; carry.py chooses the rows later months need (期初);
books.py reads the ledger before a run, warns of closed months' changed files and adds the carried
rows. The closes themselves are close.py's, the storage history.py's.
"""
