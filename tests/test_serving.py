"""Serving settings and `python -m app`: what reaches uvicorn."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.__main__ import uvicorn_options
from app.settings import Settings


def test_defaults_serve_one_worker_on_loopback() -> None:
    options = uvicorn_options(Settings())
    assert options["host"] == "127.0.0.1"
    assert options["port"] == 8000
    assert options["workers"] == 1
    assert options["root_path"] == ""
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == "127.0.0.1"


def test_environment_sets_port_workers_and_root_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("WORKERS", "4")
    monkeypatch.setenv("ROOT_PATH", "/tools/tune/")
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.0/8")
    options = uvicorn_options(Settings())
    assert (options["port"], options["workers"]) == (9001, 4)
    # One canonical form: a trailing slash would double when joined with a route.
    assert options["root_path"] == "/tools/tune"
    assert options["forwarded_allow_ips"] == "10.0.0.0/8"


@pytest.mark.parametrize("value", ["tools", "/a b", "/x?y=1", "http://host/x"])
def test_root_path_must_be_a_url_path(value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Settings(root_path=value)
    assert "ROOT_PATH" in str(exc.value)


@pytest.mark.parametrize(("name", "value"), [("port", 0), ("port", 70000), ("workers", 0)])
def test_out_of_range_port_and_workers_are_refused(name: str, value: int) -> None:
    with pytest.raises(ValidationError):
        Settings(**{name: value})
