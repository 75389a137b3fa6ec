"""The one naming of files still being written: a hidden ``.part`` sibling renamed into place.

Every writer in the package (the encoder, previews, the C2PA signer, the artifact store, the
bucket's downloads, the signing identity) stages its file under :func:`partial_path`, so a
process killed mid-write leaves only names that :data:`PARTIAL_PATTERN` finds and sweeps.
"""

from __future__ import annotations

import secrets
from pathlib import Path

__all__ = ["PARTIAL_PATTERN", "partial_path"]

PARTIAL_PATTERN = ".*.part*"
"""A glob for the files :func:`partial_path` names."""


def partial_path(path: Path) -> Path:
    """Names the hidden sibling a file is written to before it is renamed onto ``path``.

    The file lives in the same folder so the final :func:`os.replace` is a rename on one
    file system (atomic), starts with a dot so listings hide it, carries ``.part`` so nobody
    mistakes it for a finished file, and keeps the real suffix so tools still recognise it.
    """
    return path.with_name(f".{path.stem}.{secrets.token_hex(6)}.part{path.suffix}")
