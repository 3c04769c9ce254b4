"""bva-excel: a council's Best Value self-assessment, run in Excel."""

__version__ = "0.1.0"
