"""The proxy variables: read as curl and Python read them, named without credentials, ignored on request."""

from __future__ import annotations

import pytest

from ipadlogin_conformance.core.proxies import ProxyError, proxy_for
from ipadlogin_conformance.core.settings import SettingsError, resolve

TARGET = "https://staging.example.com/iPadLogin"
TOKEN = "proxy-test-token-0c4d"


@pytest.mark.parametrize(
    ("environ", "shown"),
    [
        ({}, None),
        ({"HTTPS_PROXY": "http://proxy.corp:3128"}, "http://proxy.corp:3128 (from HTTPS_PROXY)"),
        ({"https_proxy": "http://low:1", "HTTPS_PROXY": "http://up:2"}, "http://low:1 (from https_proxy)"),
        ({"HTTP_PROXY": "http://proxy.corp:3128"}, None),  # another scheme's
        ({"ALL_PROXY": "proxy.corp:8080"}, "http://proxy.corp:8080 (from ALL_PROXY)"),
        ({"HTTPS_PROXY": "http://ci:s3cret%21@proxy.corp:3128"}, "http://proxy.corp:3128 (from HTTPS_PROXY)"),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "example.com"}, None),
        ({"HTTPS_PROXY": "http://p:1", "no_proxy": ".example.com"}, None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "other.com,*"}, None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "staging.example.com:8443"}, "http://p:1 (from HTTPS_PROXY)"),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "ample.com"}, "http://p:1 (from HTTPS_PROXY)"),
    ],
)
def test_the_proxy_for_a_url(environ: dict[str, str], shown: str | None) -> None:
    choice = proxy_for(TARGET, environ)
    assert (choice.shown if choice else None) == shown


def test_no_proxy_takes_addresses_and_networks() -> None:
    environ = {"HTTP_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8,::1"}
    assert proxy_for("http://10.2.3.4:80/x", environ) is None
    assert proxy_for("http://[::1]:80/x", environ) is None
    assert proxy_for("http://11.0.0.1/x", environ) is not None


def test_the_credentials_go_to_the_proxy_only() -> None:
    choice = proxy_for(TARGET, {"HTTPS_PROXY": "http://ci:s3cret%21@proxy.corp:3128"})
    url, auth = choice.address_and_auth
    assert auth == ("ci", "s3cret!") and "s3cret" not in url
    assert "s3cret" not in repr(choice) and "s3cret" not in choice.shown


@pytest.mark.parametrize("value", ["ftp://proxy:21", "http://proxy:port", "http://"])
def test_a_proxy_the_suite_cannot_use_is_a_usage_error(value: str) -> None:
    with pytest.raises(ProxyError):
        proxy_for(TARGET, {"HTTPS_PROXY": value})
    with pytest.raises(SettingsError, match="HTTPS_PROXY"):
        resolve({"base_url": "https://staging.example.com", "ipadlogin_auth_token": TOKEN}, {"HTTPS_PROXY": value})


def test_the_settings_name_the_proxy_and_no_proxy_ignores_it() -> None:
    environ = {"HTTPS_PROXY": "http://ci:s3cret@proxy.corp:3128"}
    given = {"base_url": "https://staging.example.com", "ipadlogin_auth_token": TOKEN}
    assert resolve(given, environ).proxy == "http://proxy.corp:3128 (from HTTPS_PROXY)"
    ignored = resolve({**given, "ipadlogin_no_proxy": True}, environ)
    assert (ignored.proxy, ignored.use_proxy_env) == (None, False)
    assert resolve({}, environ).proxy is None, "the embedded server is reached directly"
