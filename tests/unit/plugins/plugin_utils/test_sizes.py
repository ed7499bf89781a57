from __future__ import annotations

import pytest

from ansible_collections.hyperv.nested.plugins.plugin_utils._sizes import SizeError, format_size, parse_size

GB = 1024**3
MB = 1024**2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (4294967296, 4 * GB),
        ("4294967296", 4 * GB),
        ("8GB", 8 * GB),
        ("8gb", 8 * GB),
        ("8 GB", 8 * GB),
        (" 8GB ", 8 * GB),
        ("8G", 8 * GB),
        ("8GiB", 8 * GB),
        ("512MB", 512 * MB),
        ("512M", 512 * MB),
        ("1.5GB", 1536 * MB),
        ("1TB", 1024 * GB),
        ("2048KB", 2 * MB),
        ("1024B", 1024),
    ],
)
def test_parse_size_accepts(value: object, expected: int) -> None:
    assert parse_size("startup_memory", value) == expected


@pytest.mark.parametrize(
    "value",
    ["", "GB", "8 XB", "8i", "eight GB", "-8GB", "8GB4", "1.5", "0.1B", "8,5GB", 0, -1, 0.5, True, None, ["8GB"], "0GB"],
)
def test_parse_size_rejects_naming_the_option(value: object) -> None:
    with pytest.raises(SizeError) as caught:
        parse_size("startup_memory", value)
    assert str(caught.value).startswith("startup_memory ")


@pytest.mark.parametrize(
    ("size", "text"),
    [(8 * GB, "8GB"), (1536 * MB, "1536MB"), (1024 * GB, "1TB"), (1000, "1000B"), (2048, "2KB"), (GB + 1, f"{GB + 1}B")],
)
def test_format_size(size: int, text: str) -> None:
    assert format_size(size) == text


def test_format_then_parse_round_trips() -> None:
    for size in (1, 4 * GB, 1536 * MB, 3 * 1024**4, 2 * MB + 1024):
        assert parse_size("x", format_size(size)) == size
