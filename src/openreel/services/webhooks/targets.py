"""Which URLs a webhook may be sent to: the server-side request forgery guard.

An endpoint's URL is given by a user, and the server calls it from inside the operator's
network. So unless the operator allows it, the scheme must be ``https``, and every address
the host name resolves to must be a public one: loopback, private, link-local (cloud
metadata at 169.254.169.254 among them), shared, reserved, multicast and the clouds' other
metadata addresses are refused. The check runs after DNS at every attempt, and the attempt
then connects to the very address that passed (:class:`Target`), so a name that changes its
answer between the check and the connection (DNS rebinding) cannot reach a refused address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from openreel.errors import WebhookTargetError as TargetRefused

__all__ = ["Resolver", "Target", "TargetPolicy", "TargetRefused", "why_refused"]

Resolver = Callable[[str, int], Sequence[str]]
"""Host name and port -> the addresses it resolves to (``socket.getaddrinfo`` by default)."""

_METADATA = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack...
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure's host agent (a public address)
    )
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Target:
    """A URL whose host was resolved and checked: connect to ``address``, present ``host``."""

    url: httpx.URL
    host: str
    port: int
    address: str

    @property
    def connect_url(self) -> httpx.URL:
        """The URL with the checked address in place of the host name."""
        return self.url.copy_with(host=self.address)

    @property
    def host_header(self) -> str:
        """The ``Host`` header the receiver expects (the port only when not the default)."""
        default = 443 if self.url.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def why_refused(address: IPAddress) -> str | None:
    """Why ``address`` may not be called, or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return why_refused(address.ipv4_mapped)
    if address in _METADATA:
        return "a cloud metadata address"
    for kind in ("loopback", "unspecified", "link_local", "private", "multicast", "reserved"):
        if getattr(address, f"is_{kind}"):
            return f"a {kind.replace('_', '-')} address"
    if not address.is_global:
        return "not a public address"
    return None


class TargetPolicy:
    """The operator's rules for webhook URLs.

    Args:
        allow_private: Let any address through (a test rig, or a private network on purpose).
        allow_http: Accept ``http://`` as well as ``https://``.
        resolve: How host names are resolved (tests pass their own).
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        allow_http: bool = False,
        resolve: Resolver = _system_resolver,
    ) -> None:
        self.allow_private = allow_private
        self.allow_http = allow_http
        self._resolve = resolve

    def parse(self, url: str) -> httpx.URL:
        """Checks the URL's form (scheme, host, no credentials), without DNS.

        Raises:
            TargetRefused: Not an absolute http(s) URL this policy accepts.
        """
        if len(url) > 2048:
            raise TargetRefused.for_value("url", url, "must be at most 2048 characters")
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError):
            raise TargetRefused.for_value("url", url, "must be an absolute URL") from None
        schemes = ("https", "http") if self.allow_http else ("https",)
        if parsed.scheme not in schemes:
            rule = (
                "must be an http:// or https:// URL"
                if self.allow_http
                else "must be an https:// URL (OPENREEL_WEBHOOKS__ALLOW_HTTP allows http)"
            )
            raise TargetRefused.for_value("url", url, rule)
        if not parsed.host:
            raise TargetRefused.for_value("url", url, "must name a host")
        if parsed.userinfo:
            raise TargetRefused.for_value("url", url, "must not carry a user name or password")
        if parsed.fragment:
            raise TargetRefused.for_value("url", url, "must not have a #fragment")
        return parsed

    def resolve(self, url: str) -> Target:
        """Parses, resolves and checks ``url``; every address must pass, the first is used.

        Raises:
            TargetRefused: The form is refused, the host does not resolve, or an address it
                resolves to is not public (unless ``allow_private``).
        """
        parsed = self.parse(url)
        host = parsed.host
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                found = self._resolve(host, port)
            except (OSError, UnicodeError, ValueError) as exc:
                raise TargetRefused.for_value(
                    "url", url, f"must name a host that resolves ({exc})"
                ) from None
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
        if not addresses:
            raise TargetRefused.for_value("url", url, "must name a host that resolves")
        if not self.allow_private:
            for address in addresses:
                reason = why_refused(address)
                if reason is not None:
                    raise TargetRefused.for_value(
                        "url",
                        url,
                        f"must reach a public address, but {host} is {address}, {reason} "
                        "(OPENREEL_WEBHOOKS__ALLOW_PRIVATE allows it)",
                    )
        return Target(url=parsed, host=host, port=port, address=str(addresses[0]))
