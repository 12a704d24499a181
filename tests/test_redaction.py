"""The token leaves no trace, and redaction never corrupts what the checks judge."""

from __future__ import annotations

from ipadlogin_conformance.redaction import PLACEHOLDER, Redactor

LONG = "tok-5f2c9a1e7b"


def test_a_real_token_is_replaced_wherever_it_appears() -> None:
    redactor = Redactor(LONG)
    assert redactor.headers([("Authorization", LONG), ("X-Echo", f"was {LONG}!")]) == (
        ("Authorization", PLACEHOLDER),
        ("X-Echo", f"was {PLACEHOLDER}!"),
    )
    assert redactor.data(b'{"message":"bad token ' + LONG.encode() + b'"}') == b'{"message":"bad token ' + PLACEHOLDER.encode() + b'"}'


def test_a_one_letter_token_is_replaced_only_where_it_stands_whole() -> None:
    redactor = Redactor("T")
    assert redactor.headers([("Authorization", "T"), ("Date", "Wed, 25 Nov 2026 14:44:43 GMT")]) == (
        ("Authorization", PLACEHOLDER),
        ("Date", "Wed, 25 Nov 2026 14:44:43 GMT"),
    )
    png = b"\x89PNG\r\n\x1a\n...IDATx\x9cT..."
    assert redactor.data(png) == png


def test_no_token_changes_nothing() -> None:
    assert Redactor(None).text("anything") == "anything"
    assert Redactor("").data(b"") == b""
