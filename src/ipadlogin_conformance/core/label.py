"""What the suite knows of an exchange beyond its bytes: how it is judged, and where it came from.

A test labels each exchange with the judgement that applies (``results.judgement``);
a replay, ``resend`` and ``compare`` judge it again from the label alone. The label
therefore travels with the exchange: in a TestRecord across xdist workers and in
the HAR cassette's custom fields, both through the one codec here (``to_har`` and
``from_har``), which also reads what older cassettes recorded.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from .policy import Expect


class Judgement(str, enum.Enum):
    LOGIN = "login"
    """POST /iPadLogin: the request class's requirements, the envelope, the time."""
    OTHER_METHOD = "other-method"
    """Another method on /iPadLogin (METH-1)."""
    QR = "qr"
    """GET qrCodeUrl (DATA-3)."""


@dataclass(frozen=True)
class Label:
    judgement: Judgement | None = None
    """None: not judged (yet); a cassette keeps only judged exchanges."""
    expect: Expect | None = None
    """LOGIN: the outcome the request must (or may) get."""
    requirements: tuple[str, ...] = ()
    """LOGIN: the requirement IDs that govern the request."""
    method_is_standard: bool = True
    """OTHER_METHOD: an HTTP method every server knows (METH-1 asks 405 of those)."""
    unreachable: bool = False
    """QR: the image could not be fetched at all (connection refused, TLS, the suite's own fetch rule)."""
    api_host: str | None = None
    """QR: the API's host, where DATA-3 blames an unreachable QR URL."""
    case_id: str | None = None
    """A generated case: its id (schemathesis's) and phase."""
    phase: str | None = None
    redirects: tuple[str, ...] = ()
    """A QR fetch: the URLs it was redirected to, in order."""
    proxy: str | None = None
    """The proxy it went through, as shown (no credentials)."""
    sent_at: float | None = None
    """When it was sent (epoch seconds), for the cassette's timeline; stored as the entry's startedDateTime."""

    def with_text(self, change: Callable[[str], str]) -> Label:
        """A copy with ``change`` applied to every text a server may have chosen (redaction)."""
        return replace(
            self,
            api_host=None if self.api_host is None else change(self.api_host),
            redirects=tuple(change(url) for url in self.redirects),
            proxy=None if self.proxy is None else change(self.proxy),
        )

    def judged_as(self, recorded: Label) -> Label:
        """This label with ``recorded``'s judgement: a request sent again is judged as the recorded one was."""
        return replace(
            self, judgement=recorded.judgement, **{name: getattr(recorded, name) for name in _JUDGEMENT_FIELDS}
        )

    def to_har(self) -> dict[str, Any]:
        """The label as HAR custom fields (``_camelCase``, as HAR 1.2 allows), only those that apply."""
        judged_by = _JUDGED_BY.get(self.judgement, ())
        har: dict[str, Any] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "sent_at" or (field.name in _JUDGEMENT_FIELDS and field.name not in judged_by):
                continue
            if value is None or value == ():
                continue
            har[_camel(field.name)] = value.value if isinstance(value, enum.Enum) else _plain(value)
        return har

    @classmethod
    def from_har(cls, har: Mapping[str, Any], sent_at: float | None = None) -> Label:
        """The label of HAR custom fields; fields it does not know (another entry's, a later version's) are ignored."""
        known = {_camel(field.name): field.name for field in fields(cls) if field.name != "sent_at"}
        values: dict[str, Any] = {known[key]: value for key, value in har.items() if key in known}
        if "judgement" in values:
            values["judgement"] = Judgement(values["judgement"])
        if "expect" in values:
            values["expect"] = Expect(values["expect"])
        for name in ("requirements", "redirects"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values, sent_at=sent_at)


_JUDGED_BY = {
    Judgement.LOGIN: ("expect", "requirements"),
    Judgement.OTHER_METHOD: ("method_is_standard",),
    Judgement.QR: ("unreachable", "api_host"),
}
_JUDGEMENT_FIELDS = frozenset(name for names in _JUDGED_BY.values() for name in names)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return "_" + head + "".join(part.title() for part in rest)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
