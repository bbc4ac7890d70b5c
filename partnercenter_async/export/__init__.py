"""The bulk export: every order of many customers into JSON Lines, CSV or Parquet, exactly once,
resumably. ``export_orders`` is the public entry point; the ``partnercenter-async export`` command
is a thin layer over it.

Modules, in the order data flows: ``_rows`` (formats and the flat columns), ``_sinks`` (writing
and the typed position a checkpoint records), ``_layout`` (where the files live), ``_output``
(stdout, or a checkpointed and locked file or directory; ``plan_output``), ``_run``
(``export_orders``), ``_core`` (the client calls it makes).
"""

from partnercenter_async._models import OrderFilters

from ._checkpoint import FinalFailure, customer_key, filter_flags
from ._errors import ExportError, OutputInUseError
from ._layout import format_of
from ._output import plan_output
from ._rows import COLUMNS, ExportFormat, parquet_schema
from ._run import ExportProgress, ExportSummary, export_orders, plural

__all__ = [
    "COLUMNS",
    "ExportError",
    "ExportFormat",
    "ExportProgress",
    "ExportSummary",
    "FinalFailure",
    "OrderFilters",
    "OutputInUseError",
    "customer_key",
    "export_orders",
    "filter_flags",
    "format_of",
    "parquet_schema",
    "plan_output",
    "plural",
]
