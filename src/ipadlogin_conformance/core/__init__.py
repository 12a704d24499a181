"""Plain data every layer passes around: exchanges, findings, the policy, the settings, redaction.

Nothing here sends a request or knows pytest; checks, client, reports and
runner all speak in these types.
"""

from .exchange import ErrorKind, Exchange, ReceivedResponse, SentRequest
from .label import Judgement, Label
from .policy import Expect, Policy, Profile
from .redaction import PLACEHOLDER, Redactor
from .settings import OPTIONS, Settings, SettingsError, resolve
from .verdict import Finding, Outcome

__all__ = [
    "OPTIONS",
    "PLACEHOLDER",
    "ErrorKind",
    "Exchange",
    "Expect",
    "Finding",
    "Judgement",
    "Label",
    "Outcome",
    "Policy",
    "Profile",
    "ReceivedResponse",
    "Redactor",
    "SentRequest",
    "Settings",
    "SettingsError",
    "resolve",
]
