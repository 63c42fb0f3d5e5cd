"""kis-batch: the evening batch of a Kingdee KIS reseller's service department."""

__version__ = "0.1.0"
