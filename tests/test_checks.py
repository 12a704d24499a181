"""The checks on hand-made exchanges: each requirement blamed alone, each level honoured.

The fault catalog proves the checks against real broken servers; these cases
pin the rules that make its verdicts precise (one requirement per defect).
"""

from __future__ import annotations

import io
import json

import pytest
import segno
from PIL import Image

from ipadlogin_conformance.checks import Expect, Policy, Profile, judge_login, other_method_refused, qr_image_decodes
from ipadlogin_conformance.checks.qr import is_api_host
from ipadlogin_conformance.checks.request_class import classify
from ipadlogin_conformance.checks.timing import latency_within_budget, p95
from ipadlogin_conformance.core.exchange import Exchange, ReceivedResponse, SentRequest
from ipadlogin_conformance.core.verdict import Outcome
from ipadlogin_conformance.suite.cases import Case, load_cases

SUCCESS = {"code": "1000", "message": "登录成功", "data": {"wId": "w-1", "qrCodeUrl": "http://127.0.0.1/q.png"}}
FAILURE = {"code": "1001", "message": "用户名或密码错误", "data": None}


def exchange(body: object, status: int = 200, content_type: str = "application/json", method: str = "POST") -> Exchange:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Exchange(
        SentRequest(method, "http://127.0.0.1/iPadLogin", (), b'{"type":2}'),
        ReceivedResponse(status, (("Content-Type", content_type),), raw, 1.0),
        elapsed_ms=1.0,
    )


def problems(
    ex: Exchange, expect: Expect = Expect.SUCCESS, ids: tuple[str, ...] = ("REQ-1",), profile: Profile = Profile.STRICT
) -> dict[str, str]:
    findings = judge_login(ex, expect, ids, Policy(profile=profile))
    return {f.requirement: f.outcome.value for f in findings if f.outcome is not Outcome.PASS}


def test_correct_answers_pass() -> None:
    assert problems(exchange(SUCCESS)) == {}
    assert problems(exchange(FAILURE), Expect.FAILURE, ("REQ-5",)) == {}
    assert problems(exchange({**FAILURE, "code": "10001", "extra": 1}), Expect.FAILURE, ("REQ-5",)) == {}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({**SUCCESS, "code": 1000}, {"ENV-3": "fail"}),
        ({"code": "1000", "msg": "ok", "data": SUCCESS["data"]}, {"ENV-2": "fail"}),
        ({**SUCCESS, "message": 7}, {"ENV-4": "fail"}),
        ({**SUCCESS, "data": json.dumps(SUCCESS["data"])}, {"ENV-5": "fail"}),
        ({**SUCCESS, "data": {"qrCodeUrl": "http://h/q.png"}}, {"DATA-1": "fail"}),
        ({**SUCCESS, "data": {"wId": "", "qrCodeUrl": "http://h/q.png"}}, {"DATA-1": "fail"}),
        ({**SUCCESS, "data": {"wId": "w", "qrCodeUrl": "/q.png"}}, {"DATA-2": "fail"}),
        ({**SUCCESS, "data": {"wId": "w", "qrCodeUrl": "ftp://h/q.png"}}, {"DATA-2": "fail"}),
    ],
)
def test_a_malformed_success_is_blamed_on_one_requirement(body: dict, expected: dict) -> None:
    assert problems(exchange(body)) == expected


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({**FAILURE, "data": {}}, 200, {"ENV-7": "warn"}),
        ({**FAILURE, "data": SUCCESS["data"]}, 200, {"ENV-7": "fail"}),
        ({**FAILURE, "code": "4001"}, 200, {"ENV-6": "warn"}),
        ({**FAILURE, "code": "1000"}, 200, {"ENV-5": "fail", "REQ-5": "fail"}),
        (FAILURE, 401, {"ENV-8": "warn"}),
        (FAILURE, 500, {"ENV-8": "fail", "REQ-5": "fail"}),
        (b"Internal Server Error", 500, {"ENV-8": "fail", "REQ-5": "fail"}),
        ({**FAILURE, "code": 1001}, 200, {"ENV-3": "fail"}),
        ({"Code": "1001", "Message": "x", "Data": None}, 200, {"ENV-2": "fail"}),
        ({"detail": [{"msg": "field required"}]}, 422, {"ENV-2": "fail", "ENV-8": "warn"}),
    ],
)
def test_a_malformed_failure_is_blamed_on_its_requirement(body: dict, status: int, expected: dict) -> None:
    assert problems(exchange(body, status), Expect.FAILURE, ("REQ-5",)) == expected


def test_the_form_of_the_answer_is_env_1() -> None:
    assert problems(exchange(SUCCESS, content_type="text/html")) == {"ENV-1": "fail"}
    assert problems(exchange(b"<html>oops</html>", 400, "text/html"), Expect.FAILURE, ("REQ-8",)) == {
        "ENV-1": "fail",
        "ENV-8": "warn",
    }
    assert problems(exchange(json.dumps(FAILURE).encode() + b"garbage"), Expect.FAILURE, ("REQ-8",)) == {
        "ENV-1": "fail"
    }
    # The decision of a JSON object followed by other bytes is still read: only the form is broken.
    assert problems(exchange(json.dumps(SUCCESS).encode() + b"\n<!-- 0.4ms -->")) == {"ENV-1": "fail"}
    assert problems(exchange(json.dumps(SUCCESS).encode() + b"<!--"), Expect.FAILURE, ("AUTH-1",)) == {
        "ENV-1": "fail",
        "AUTH-1": "fail",
    }


def test_the_lenient_profile_warns_for_the_tables_errata() -> None:
    body = {"code": 1000, "msg": "ok", "data": SUCCESS["data"]}
    assert problems(exchange(body), profile=Profile.LENIENT) == {"ENV-2": "warn", "ENV-3": "warn"}
    assert problems(exchange(body), profile=Profile.STRICT) == {"ENV-2": "fail", "ENV-3": "fail"}


def test_expectations() -> None:
    assert problems(exchange(FAILURE), Expect.SUCCESS, ("AUTH-3",)) == {"AUTH-3": "fail"}
    assert problems(exchange(SUCCESS), Expect.FAILURE, ("AUTH-1",)) == {"AUTH-1": "fail"}
    assert problems(exchange(SUCCESS), Expect.FAILURE, ("REQ-6",)) == {"REQ-6": "warn"}
    assert problems(exchange(FAILURE), Expect.ANSWER, ("REQ-9",)) == {}


def unanswered(error: str = "the server reset the connection", *, timed_out: bool = False) -> Exchange:
    return Exchange(SentRequest("POST", "http://h/iPadLogin"), None, error=error, timed_out=timed_out, elapsed_ms=3)


@pytest.mark.parametrize("expect", [Expect.SUCCESS, Expect.FAILURE])
def test_no_answer_is_one_env_1_finding_not_one_per_requirement(expect: Expect) -> None:
    """Whether the server would have accepted the request is unknown: only the missing answer is blamed."""
    findings = judge_login(unanswered(), expect, ("AUTH-3", "REQ-1"), Policy())
    assert [(f.requirement, f.outcome.value) for f in findings] == [("ENV-1", "fail")]
    assert findings[0].detail == "no HTTP answer: the server reset the connection"


def test_a_request_class_that_promises_an_answer_is_blamed_too() -> None:
    assert problems(unanswered(), Expect.ANSWER, ("REQ-9",)) == {"ENV-1": "fail", "REQ-9": "fail"}
    # A timeout is TIME-1's, not ENV-1's.
    assert problems(unanswered("timed out", timed_out=True), Expect.ANSWER, ("REQ-7",)) == {
        "REQ-7": "fail",
        "TIME-1": "fail",
    }
    assert problems(unanswered("timed out", timed_out=True), Expect.SUCCESS, ("REQ-1",)) == {"TIME-1": "fail"}


def test_an_answer_broken_on_the_wire_after_it_arrived_is_env_1() -> None:
    """A transport error that comes with an answer (a framing error after it) adds ENV-1; the answer is still judged."""
    framed = exchange(SUCCESS)
    broken = Exchange(
        framed.request, framed.response, error="3 bytes after the declared Content-Length", elapsed_ms=1.0
    )
    findings = judge_login(broken, Expect.SUCCESS, ("REQ-1",), Policy())
    assert {f.requirement: f.outcome.value for f in findings if f.outcome is not Outcome.PASS} == {"ENV-1": "fail"}
    assert any("broken on the wire: 3 bytes after" in f.detail for f in findings)


def test_a_class_that_should_succeed_warns_whatever_comes_instead() -> None:
    """REQ-1's SHOULD clause ({"type": 2.0}): a refusal is a warning; a crash is still ENV-8's failure."""
    assert problems(exchange(SUCCESS), Expect.SHOULD_SUCCEED, ("REQ-1",)) == {}
    assert problems(exchange(FAILURE), Expect.SHOULD_SUCCEED, ("REQ-1",)) == {"REQ-1": "warn"}
    assert problems(exchange({**FAILURE, "code": "10001"}, 400), Expect.SHOULD_SUCCEED, ("REQ-1",)) == {
        "REQ-1": "warn",
        "ENV-8": "warn",
    }
    assert problems(exchange(b"oops", 500, "text/plain"), Expect.SHOULD_SUCCEED, ("REQ-1",)) == {
        "REQ-1": "warn",
        "ENV-8": "fail",
    }
    # The MUST clause, {"type": 2}, still fails.
    assert problems(exchange(FAILURE), Expect.SUCCESS, ("AUTH-3", "REQ-1")) == {"AUTH-3": "fail", "REQ-1": "fail"}


def test_a_missing_or_null_type_gets_any_answer_but_a_crash() -> None:
    """REQ-4 as revised: a refusal (the page) and a success (a deployed client) both conform."""
    for body in ({}, {"wcId": ""}, {"type": None}, {"type": None, "wcId": "wxid_a"}):
        expect, ids = classify(body)
        assert (expect, ids) == (Expect.ANSWER, ("REQ-4",)), body
        assert problems(exchange(FAILURE), expect, ids) == {}
        assert problems(exchange(SUCCESS), expect, ids) == {}
        assert problems(exchange(b"Internal Server Error", 500, "text/plain"), expect, ids) == {
            "REQ-4": "fail",
            "ENV-8": "fail",
        }
        dropped = Exchange(SentRequest("POST", "http://h/iPadLogin"), None, error="connection reset", elapsed_ms=3)
        assert problems(dropped, expect, ids) == {
            "REQ-4": "fail",
            "ENV-1": "fail",
        }  # no HTTP answer is ENV-1 too (checks/transport.py)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"type": 2}, (Expect.SUCCESS, ("AUTH-3", "REQ-1"))),
        ({"type": 2.0}, (Expect.SHOULD_SUCCEED, ("REQ-1",))),
        ({"type": 2, "wcId": ""}, (Expect.SUCCESS, ("REQ-2",))),
        ({"type": 2, "deviceType": "ipad"}, (Expect.SUCCESS, ("REQ-3",))),
        # 2.0 and an addition: a refusal could be either one's, so neither is blamed.
        ({"type": 2.0, "deviceType": "ipad"}, (Expect.ANSWER, ("REQ-3",))),
        ({"type": 2.0, "wcId": ""}, (Expect.ANSWER, ("REQ-2",))),
        ({"type": 2.0, "wcId": "wxid_a"}, (Expect.ANSWER, ("REQ-7",))),
        ({"type": 2, "wcId": "", "deviceType": "ipad"}, (Expect.ANSWER, ("REQ-2", "REQ-3"))),
        ({"type": 2, "wcId": "wxid_a"}, (Expect.ANSWER, ("REQ-7",))),
        ({"wcId": ""}, (Expect.ANSWER, ("REQ-4",))),
        ({}, (Expect.ANSWER, ("REQ-4",))),
        ({"type": None}, (Expect.ANSWER, ("REQ-4",))),
        ({"type": "abc"}, (Expect.FAILURE, ("REQ-5",))),
        ({"type": True}, (Expect.FAILURE, ("REQ-5",))),
        ({"type": []}, (Expect.FAILURE, ("REQ-5",))),
        ({"type": "2"}, (Expect.FAILURE, ("REQ-6",))),
        ({"type": 3}, (Expect.FAILURE, ("REQ-6",))),
        ({"type": 2.5}, (Expect.FAILURE, ("REQ-6",))),
        ({"type": 2, "wcId": 5}, (Expect.FAILURE, ("REQ-6",))),
        ([{"type": 2}], (Expect.FAILURE, ("REQ-8",))),
    ],
)
def test_request_classes(body: object, expected: tuple) -> None:
    assert classify(body) == expected


@pytest.mark.parametrize(
    "case",
    [
        c
        for c in load_cases()
        if c.token == "valid"
        and c.content_type == "application/json"
        and c.token_header == "Authorization"
        and c.content_type_header == "Content-Type"
    ],
    ids=lambda c: c.id,
)
def test_a_generated_body_is_judged_like_the_hand_written_case_that_sends_it(case: Case) -> None:
    """cases.yaml and the classification of generated (and replayed) bodies agree.

    Where the classification asks only for an answer, a case may know more of
    its values (a plausible proxy succeeds, a hostile wcId is REQ-9), but a
    body that may succeed is never a case that must fail.
    """
    try:
        body = json.loads(case.body or b"")
    except ValueError:
        body = None  # not JSON: REQ-8's class
    expect, ids = classify(body)
    if expect is Expect.ANSWER:
        assert case.expect is not Expect.FAILURE
    else:
        assert (case.expect, case.requirements) == (expect, ids)


def test_other_methods() -> None:
    assert other_method_refused(exchange(FAILURE, 405, method="GET")).outcome is Outcome.PASS
    assert other_method_refused(exchange(SUCCESS, 200, method="GET")).outcome is Outcome.WARN
    assert other_method_refused(exchange(b"", 500, "text/plain", method="GET")).outcome is Outcome.WARN
    assert (
        other_method_refused(exchange(b"", 501, "text/plain", method="BREW"), method_is_standard=False).outcome
        is Outcome.PASS
    )
    assert other_method_refused(exchange(b"", 501, "text/plain", method="PUT")).outcome is Outcome.WARN


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_qr_image_must_decode_as_a_qr_code() -> None:
    qr = io.BytesIO()
    segno.make("https://login.weixin.qq.com/l/w-1").save(qr, kind="png", scale=4)
    assert qr_image_decodes(exchange(qr.getvalue(), content_type="image/png")).outcome is Outcome.PASS
    blank = _png(Image.new("RGB", (64, 64), "white"))
    assert qr_image_decodes(exchange(blank, content_type="image/png")).outcome is Outcome.WARN
    assert qr_image_decodes(exchange(qr.getvalue(), content_type="text/html")).outcome is Outcome.WARN
    unreachable = Exchange(SentRequest("GET", "http://nowhere.invalid/q.png"), None, error="cannot connect")
    assert qr_image_decodes(unreachable, unreachable=True).outcome is Outcome.NOT_VERIFIED
    assert qr_image_decodes(unreachable, unreachable=True, api_host="api.example").outcome is Outcome.NOT_VERIFIED


@pytest.mark.parametrize(
    "url", ["http://api.example:9/q.png", "https://API.example/q.png", "http://api.example:8080/qr/w.png"]
)
def test_a_qr_url_on_the_apis_own_host_that_refuses_is_a_warning(url: str) -> None:
    """DATA-3: the suite reached that host a moment ago, so a refused connection there is the server's (any port)."""
    refused = Exchange(SentRequest("GET", url), None, error="cannot connect: [Errno 111] Connection refused")
    finding = qr_image_decodes(refused, unreachable=True, api_host="api.example")
    assert finding.outcome is Outcome.WARN and "own host" in finding.detail


def test_the_apis_own_host_is_its_name_or_address_as_written() -> None:
    assert is_api_host("http://127.0.0.1:1/q.png", "127.0.0.1")
    assert is_api_host("http://[::1]:8080/q.png", "::1")
    assert not is_api_host("http://localhost:8080/q.png", "127.0.0.1")  # no DNS lookup: another name is another host
    assert not is_api_host("http://qr.api.example/q.png", "api.example")
    assert not is_api_host("http://api.example/q.png", None)


def test_latency_budget() -> None:
    assert p95([float(i) for i in range(1, 101)]) == 95.0
    assert latency_within_budget([10.0] * 99 + [5000.0], Policy(latency_budget_ms=100)).outcome is Outcome.PASS
    assert latency_within_budget([300.0] * 20, Policy(latency_budget_ms=100)).outcome is Outcome.WARN
