"""Fixtures shared by the test modules."""

from __future__ import annotations

import socket

import pytest


class NetworkAttempt(AssertionError):
    """Raised in place of any network connection while `no_network` is in force."""


@pytest.fixture
def no_network(monkeypatch):
    """Sockets cannot connect or resolve names; every attempt is raised and also listed, so an
    attempt swallowed by the code under test still fails the test at teardown."""
    attempts: list[str] = []

    def refuse(what):
        def blocked(*args, **kwargs):
            attempts.append(f"{what}{args[1:] if what.startswith('socket.socket') else args}")
            raise NetworkAttempt(f"network access attempted: {what}")
        return blocked

    for name in ("connect", "connect_ex", "sendto"):
        monkeypatch.setattr(socket.socket, name, refuse(f"socket.socket.{name}"))
    for name in ("create_connection", "getaddrinfo", "gethostbyname"):
        monkeypatch.setattr(socket, name, refuse(f"socket.{name}"))
    yield attempts
    assert attempts == [], f"network access attempted: {attempts}"
