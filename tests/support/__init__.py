"""Helpers the tests share and never collect: throwaway servers (PostgreSQL, Redis, S3),
clocks, waiting, tiny local models and the scripted fake hosted providers.

They live apart from the test files so that a folder of tests holds tests only, and a helper
used by several folders has one home (imported as ``tests.support.<module>``).
"""
