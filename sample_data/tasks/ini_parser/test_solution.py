import pytest

from solution import IniError, parse_ini

SAMPLE = """
; global comment
[server]
Host = example.org
port: 8080

# another comment
[paths]
root = /srv/app
url = http://x/?a=b
empty =
"""


def test_parses_sections_and_pairs():
    assert parse_ini(SAMPLE) == {
        "server": {"host": "example.org", "port": "8080"},
        "paths": {"root": "/srv/app", "url": "http://x/?a=b", "empty": ""},
    }


def test_first_separator_wins():
    assert parse_ini("[s]\na: b = c\n") == {"s": {"a": "b = c"}}


def test_case_of_keys_can_be_preserved():
    assert parse_ini("[S]\nMixedCase=1", lowercase_keys=False) == {
        "S": {"MixedCase": "1"}
    }


def test_custom_comment_prefix():
    assert parse_ini("[s]\n// note\nk=v", comment_prefixes=("//",)) == {"s": {"k": "v"}}


def test_duplicate_key_reports_line_number():
    with pytest.raises(IniError) as info:
        parse_ini("[s]\nk=1\nK=2\n")
    assert info.value.lineno == 3


def test_malformed_lines_raise_ini_error():
    with pytest.raises(IniError):
        parse_ini("k=v\n")
    with pytest.raises(IniError):
        parse_ini("[s]\njust words\n")
    with pytest.raises(IniError):
        parse_ini("[s]\n[s]\n")


def test_blank_comment_prefix_raises_value_error():
    with pytest.raises(ValueError):
        parse_ini("[s]\nk=v", comment_prefixes=("",))


def test_non_string_text_raises_type_error():
    with pytest.raises(TypeError):
        parse_ini(b"[s]\nk=v")  # type: ignore[arg-type]
