from __future__ import annotations

import openreel


def test_public_api_surface_is_explicit() -> None:
    assert sorted(openreel.__all__) == [
        "GenerationResult",
        "InvalidRequestError",
        "OpenReelError",
        "VideoRequest",
        "__version__",
    ]
    for name in openreel.__all__:
        assert hasattr(openreel, name)


def test_public_api_version_matches_package_metadata() -> None:
    from importlib.metadata import version

    assert openreel.__version__ == version("openreel")
