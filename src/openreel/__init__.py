"""OpenReel: a self-hosted text-to-video service.

The public surface is deliberately small: the version, the request and result records, and
the error tree. Everything else is reached through the CLI, the HTTP API or the runtime.
"""

from openreel.domain import GenerationResult, VideoRequest
from openreel.errors import InvalidRequestError, OpenReelError

__version__ = "0.1.0"

__all__ = [
    "GenerationResult",
    "InvalidRequestError",
    "OpenReelError",
    "VideoRequest",
    "__version__",
]
