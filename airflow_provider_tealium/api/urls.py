"""URLs and host names: what may be quoted in a message, which origin a URL is, what a bare host is.

Pure (no I/O). Every message that quotes a URL goes through :func:`strip_userinfo` or :func:`safe_url`,
so a ``user:password@`` in a configured URL never reaches a log or an error.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
# ``scheme://user:password@`` anywhere in a text, up to the last "@" before the path: a password may
# hold an unencoded "@", and stripping too much is safe where stripping too little leaks.
_USERINFO_RE = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s]*@")
# One DNS label: letters, digits, hyphens, not starting or ending with a hyphen, at most 63 characters.
_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_BARE_HOST_RE = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*(?::(?P<port>[0-9]{{1,5}}))?$")
MAX_HOST_LENGTH = 253


def strip_userinfo(text: str) -> str:
    """``text`` with the ``user:password@`` of every URL in it removed.

    :param text: any text (a URL, a repr, a message).
    """
    return _USERINFO_RE.sub(r"\1", text)


def safe_url(url: str) -> str:
    """A URL as it may appear in logs and errors: without userinfo, query string (a presigned URL's
    signature) or fragment.

    :param url: the URL.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return strip_userinfo(url.split("?", 1)[0].split("#", 1)[0])
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def url_host(url: str) -> str:
    """``host[:port]`` of a URL: what an error may name (never its userinfo, path or query).

    :param url: an absolute URL.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(an unreadable host)"
    host = parts.hostname or "(no host)"
    return f"{host}:{port}" if port is not None else host


def origin(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of a URL with the default port filled in: equal for one origin.

    :param url: an absolute URL.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "", "", None
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


def base_url_problem(url: object) -> str | None:
    """Why ``url`` cannot be a configured base URL, or ``None`` when it can: ``http(s)://host[:port]``
    with an optional path, no ``user:password@`` (the HTTP clients would send it as a Basic header,
    and logs would show it), no query string or fragment.

    :param url: the configured value.
    """
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return "must start with http:// or https://"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (reading it validates it)
    except ValueError:
        return "must be a URL with a valid host and port"
    if "@" in parts.netloc:
        return (
            "must not carry a user or password (user:password@): put credentials in the connection's fields"
        )
    if not parts.hostname or any(ch.isspace() for ch in url):
        return "must name a host and contain no spaces"
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return "must not carry a query string or fragment"
    return None


def is_bare_host(value: object) -> bool:
    """Whether ``value`` is a bare host name with an optional port (``eu-1.example.com``,
    ``127.0.0.1:8081``): no scheme, userinfo, path, query, fragment, whitespace or empty label.

    :param value: the candidate.
    """
    if not isinstance(value, str) or not value or len(value) > MAX_HOST_LENGTH + 6:
        return False
    match = _BARE_HOST_RE.match(value)
    if match is None:
        return False
    port = match.group("port")
    return port is None or 0 < int(port) < 65536


def host_without_port(host: str) -> str:
    """The host name of a bare ``host[:port]``, lower-cased.

    :param host: a value :func:`is_bare_host` accepts.
    """
    return host.rsplit(":", 1)[0].lower() if ":" in host else host.lower()
