"""Video backends: everything that turns a :class:`~openreel.domain.VideoRequest` into frames.

Every backend implements :class:`~openreel.backends.base.VideoBackend` and passes the shared
contract suite in ``tests/contract/``. Backends import only domain, errors and config (and
their own third-party libraries): never api, services or queue.
"""
