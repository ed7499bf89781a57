"""Typographic dashes and quotes in pasted text, read as PowerShell's tokenizer reads them."""

from __future__ import annotations

import pytest
from hvsim.powershell.pasted import normalize


@pytest.mark.parametrize(("pasted", "read"), [
    # Dashes starting a parameter or an operator: all three typographic dashes are '-'.
    ("New-NetNat \u2013Name LocalNAT", "New-NetNat -Name LocalNAT"),
    ("Stop-VM \u2014Name A \u2015TurnOff", "Stop-VM -Name A -TurnOff"),
    ("if ($a \u2013eq 1) {}", "if ($a -eq 1) {}"),
    # Quotes opening and closing strings: single and double families.
    ("Get-VM \u201cLAB-HV1\u201d", 'Get-VM "LAB-HV1"'),
    ("Get-VM \u2018LAB-HV1\u2019", "Get-VM 'LAB-HV1'"),
    ("Get-VM \u201eLAB-HV1\u201d", 'Get-VM "LAB-HV1"'),
    # Mixed: a typographic string closed by an ASCII quote, as PowerShell allows.
    ('Get-VM \u201cLAB-HV1"', 'Get-VM "LAB-HV1"'),
])
def test_token_starting_dashes_and_string_quotes_become_ascii(pasted: str, read: str) -> None:
    assert normalize(pasted) == read


@pytest.mark.parametrize("kept", [
    "Get-VM LAB\u2013HV1",                         # a dash inside a word is part of the word
    "Write-Output 'it\u2013is \u201cquoted\u201d inside'",  # other quotes and dashes inside a string
    "# a comment \u2013with \u201cquotes\u201d",
])
def test_characters_inside_words_strings_and_comments_are_kept(kept: str) -> None:
    assert normalize(kept) == kept


def test_positions_do_not_move_so_error_messages_point_at_the_original_text() -> None:
    text = "New-NetNat \u2013Name LocalNAT \u2013InternalIPInterfaceAddressPrefix \u201c192.168.100.0/24\u201d\nGet-VM"
    normalized = normalize(text)
    assert len(normalized) == len(text)
    assert [i for i, (a, b) in enumerate(zip(text, normalized, strict=True)) if a != b] == [11, 26, 60, 77]


def test_a_subexpression_inside_a_string_is_code_again() -> None:
    assert normalize('"x $(Get-VM \u2013Name \u2018A\u2019) y"') == '"x $(Get-VM -Name \'A\') y"'
