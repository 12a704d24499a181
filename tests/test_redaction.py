"""The token leaves no trace, and redaction never corrupts what the checks judge."""

from __future__ import annotations

import base64
import html
import json
from urllib.parse import quote, quote_plus

import pytest

from ipadlogin_conformance.core.exchange import Exchange, ReceivedResponse, SentRequest
from ipadlogin_conformance.core.label import Label
from ipadlogin_conformance.core.redaction import PLACEHOLDER, Redactor
from ipadlogin_conformance.core.verdict import Finding, Outcome

LONG = "tok-5f2c9a1e7b"


def test_a_real_token_is_replaced_wherever_it_appears() -> None:
    redactor = Redactor(LONG)
    assert redactor.headers([("Authorization", LONG), ("X-Echo", f"was {LONG}!")]) == (
        ("Authorization", PLACEHOLDER),
        ("X-Echo", f"was {PLACEHOLDER}!"),
    )
    assert (
        redactor.data(b'{"message":"bad token ' + LONG.encode() + b'"}')
        == b'{"message":"bad token ' + PLACEHOLDER.encode() + b'"}'
    )


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


ECHOED = "leak/me+tok=9f3b2c71"
"""'/', '+' and '=' change under base64, URL and JSON escaping."""


def _forms_a_server_may_echo(token: str) -> list[str]:
    raw = token.encode()
    return [
        token,
        token.upper(),
        raw.hex(),
        html.escape(token),
        quote(token, safe=""),
        quote(token, safe="").lower(),
        quote_plus(token),
        quote(quote(token, safe=""), safe=""),
        json.dumps(token)[1:-1].replace("/", "\\/"),
        json.dumps({"t": token}),
        *(base64.b64encode(prefix + raw + b"!").decode() for prefix in (b"", b"u", b"u:")),
        *(base64.urlsafe_b64encode(prefix + raw).decode() for prefix in (b"", b"u", b"u:")),
    ]


@pytest.mark.parametrize("echo", _forms_a_server_may_echo(ECHOED))
def test_the_token_is_scrubbed_in_any_form_a_server_may_echo(echo: str) -> None:
    redactor = Redactor(ECHOED)
    text = redactor.text(f"got <{echo}> back")
    assert PLACEHOLDER in text
    assert (
        ECHOED not in text
        and base64.b64encode(ECHOED.encode()).decode() not in text
        and quote(ECHOED, safe="") not in text
    )
    assert redactor.data(f"got <{echo}> back".encode()) == text.encode()


def test_a_token_cut_short_at_the_end_of_an_excerpt_is_scrubbed_but_text_sharing_its_start_is_kept() -> None:
    redactor = Redactor("ipadlogin-dev-token")
    assert redactor.text("got 'ipadlogin-dev-to…'") == f"got '{PLACEHOLDER}…'"
    assert redactor.text('{"body": "ipadlogin-de') == f'{{"body": "{PLACEHOLDER}'
    assert redactor.text("ipadlogin-conformance/1.0") == "ipadlogin-conformance/1.0"
    assert redactor.text(f'curl -H "Authorization: {PLACEHOLDER}"') == f'curl -H "Authorization: {PLACEHOLDER}"'


def test_a_redacted_copy_leaves_what_was_sent_and_received_as_it_was() -> None:
    """The suite judges and fetches the real values: only what is shown or stored is redacted."""
    url = f"http://127.0.0.1:9/qr.png?t={quote(ECHOED, safe='')}"
    exchange = Exchange(
        SentRequest("GET", url, (("Authorization", ECHOED),)),
        ReceivedResponse(200, (("X-Echo", ECHOED),), f'{{"wId": "{ECHOED}"}}'.encode(), 1.0),
        error=f"illegal status line: {ECHOED}",
        label=Label(redirects=(url,)),
    )
    finding = Finding("DATA-3", Outcome.WARN, f"QR code decodes to {ECHOED!r}", exchange)
    shown = Redactor(ECHOED).finding(finding)
    assert ECHOED not in repr(shown) and quote(ECHOED, safe="") not in repr(shown)
    assert shown.exchange.curl().count(f'"Authorization: {PLACEHOLDER}"') == 1
    assert (
        exchange.request.url == url
        and exchange.response.body == f'{{"wId": "{ECHOED}"}}'.encode()
        and finding.detail.endswith(f"{ECHOED!r}")
    )
