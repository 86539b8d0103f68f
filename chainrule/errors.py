"""The one error type that user-facing code raises for bad input.

The CLI turns a :class:`ChainruleError` into one line on stderr and exit status 2. Its message says
what was received and what was expected.
"""


class ChainruleError(ValueError):
    """Bad input from a user: a malformed expression, spec, value, data file or option."""


class TrainingDiverged(ChainruleError):
    """The loss became NaN or inf during training."""
