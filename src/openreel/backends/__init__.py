"""Video backends: everything that turns a :class:`~openreel.domain.VideoRequest` into frames.

Every backend implements :class:`~openreel.backends.base.VideoBackend` and passes the shared
contract suite in ``tests/contract/``; ``registry`` and ``providers`` say which backend serves
which model.
"""
