"""zhongtai: an open-source data middle-platform for consumer credit risk."""

__version__ = "0.1.0"
