"""A realistic month of example input (kis-batch demo): the workbooks the clerks of a Kingdee KIS
reseller's service department drop into the evening folder, seeded, so the same arguments always
give byte-identical files.

The month is simulated working day by working day the way the department works, so every figure
the pipeline derives from the folder is consistent: the hotline logs calls; tickets that need a
visit are served the next working day by the customer's engineer, or by the nearest colleague with
room when the engineer is full or on leave; 部分解决/未解决 visits come back later; engineers fill
spare room with customer visits at their own pace; the hotline verifies each day's visits at 17:00,
spot-checks every engineer and calls other customers about satisfaction. The folder also keeps the
last earlier call of each tracked customer the month did not reach, and the 集团客户 belong to two groups.

Several months (--months) are one department living on: the tickets open at a month's end are served
in the next, and an earlier month is whole, every feedback back for its close. Only the first month
has that excerpt of earlier calls (热线记录_往月摘录): it is the department's history from before it
used the tool, which no clerk makes again; a later month's open work comes from the tool's own
carry-forward (期初, docs/rules.md § A month's life). months.py prints the commands to follow.

The modules, by job: parameters (the seed, sizes and every share and mix), people (staff and
customers), records and the month's ledgers (month, visits, calls, callbacks, fees, projects,
complaints), rows (the ledgers as sheet rows), workbooks (writing them) and months (the months of a
demo of several and the commands to follow them).
"""

from typing import Any

from kis_batch.demo.parameters import CONTRACT_SHARE, DEFAULT_SEED, HANDLING_WEIGHTS

__all__ = ["CONTRACT_SHARE", "DEFAULT_SEED", "HANDLING_WEIGHTS", "write_demo"]


def __getattr__(name: str) -> Any:
    """write_demo loads the simulation only when asked: every other command (the evening run among
    them) reads DEFAULT_SEED for its help and would otherwise pay for importing the whole month."""
    if name == "write_demo":
        from kis_batch.demo.workbooks import write_demo

        return write_demo
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
