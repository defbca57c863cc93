"""Domain errors whose message a user can act on.

Every error the CLI or the GUI shows derives from IspViewerError; its str() is one line.
"""


class IspViewerError(Exception):
    """Base class: str(err) is a single line meant for the user."""

    def __str__(self) -> str:  # keep messages on one line whatever the cause text holds
        return " ".join(super().__str__().split())


class InputError(IspViewerError):
    """A file or array that cannot be used as input (unreadable, unsupported, impossible values)."""


class ModelError(IspViewerError):
    """A network that cannot run on the given input (wrong kind, too small, ...)."""


class WeightsError(IspViewerError):
    """A checkpoint that is missing, unsafe or does not match the network."""
