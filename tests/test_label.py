"""The label of a judged exchange: one codec to and from the HAR cassette's custom fields."""

from __future__ import annotations

import json

import pytest

from ipadlogin_conformance.core.exchange import Exchange, ReceivedResponse, SentRequest
from ipadlogin_conformance.core.label import Judgement, Label
from ipadlogin_conformance.core.policy import Expect
from ipadlogin_conformance.reports.cassette import from_entry, to_entry

LABELS = [
    Label(Judgement.LOGIN, Expect.SHOULD_SUCCEED, ("REQ-1", "REQ-2"), case_id="c1", phase="coverage", sent_at=1.5),
    Label(Judgement.OTHER_METHOD, method_is_standard=False, sent_at=2.0),
    Label(Judgement.QR, unreachable=True, api_host="api.example", redirects=("http://a/1", "http://b/2"), proxy="p:1"),
    Label(Judgement.QR, sent_at=3.25),
]


@pytest.mark.parametrize("label", LABELS, ids=lambda label: label.judgement.value)
def test_a_label_comes_back_from_the_cassette_as_it_was_written(label: Label) -> None:
    exchange = Exchange(SentRequest("POST", "http://x/iPadLogin"), ReceivedResponse(200, (), b"{}", 1.0), label=label)
    entry = json.loads(json.dumps(to_entry(exchange, "t::id", 7, [])))
    assert from_entry(entry).label == (label if label.sent_at else Label(**{**vars(label), "sent_at": 0.0}))
    assert Exchange.from_dict(json.loads(json.dumps(exchange.to_dict()))).label == label


def test_only_the_fields_of_its_judgement_are_written() -> None:
    assert Label(Judgement.OTHER_METHOD, Expect.SUCCESS, ("REQ-1",), unreachable=True).to_har() == {
        "_judgement": "other-method",
        "_methodIsStandard": True,
    }
    assert Label(Judgement.LOGIN, Expect.FAILURE, ("AUTH-1",)).to_har() == {
        "_judgement": "login",
        "_expect": "failure",
        "_requirements": ["AUTH-1"],
    }


def test_a_cassette_from_an_older_version_is_read_and_unknown_fields_are_ignored() -> None:
    recorded = {"_judgement": "qr", "_unreachable": False, "_testId": "t", "_seed": 3, "_someLaterField": {"x": 1}}
    assert Label.from_har(recorded) == Label(Judgement.QR)  # no _apiHost before 2026-12: judged as then


def test_a_judgement_it_does_not_know_is_not_read_as_another() -> None:
    with pytest.raises(ValueError):
        Label.from_har({"_judgement": "delete-everything"})


def test_a_request_sent_again_is_judged_as_the_recorded_one_and_keeps_its_own_context() -> None:
    recorded = Label(Judgement.LOGIN, Expect.FAILURE, ("AUTH-2",), case_id="old", sent_at=1.0)
    again = Label(proxy="p:1", sent_at=9.0).judged_as(recorded)
    assert again == Label(Judgement.LOGIN, Expect.FAILURE, ("AUTH-2",), proxy="p:1", sent_at=9.0)


def test_redaction_reaches_every_text_a_server_chose() -> None:
    label = Label(Judgement.QR, api_host="h-SECRET", redirects=("http://a/?t=SECRET",), proxy="SECRET")
    assert "SECRET" not in repr(label.with_text(lambda text: text.replace("SECRET", "$T")))
