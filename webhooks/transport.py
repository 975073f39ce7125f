"""One POST of a delivery, to an address the guard checked (httpx, with connect and read timeouts)."""
from __future__ import annotations

import ssl
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from webhooks.addresses import AddressRefused, addresses_checked, url_checked

USER_AGENT = "Nymble-Webhooks/1"


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int | None, str]:
    """(the answer's status code, or None; why it failed, or "").

    The name is resolved once, here, and the request goes to an address that passed the guard
    (so a name that answers differently a moment later cannot point it inside); TLS still checks
    the certificate against the name. Redirects are not followed: a 3xx is a failed attempt. The
    answer's body is never read."""
    try:
        host, port = url_checked(url)
        addresses = addresses_checked(host, port)
    except (AddressRefused, LookupError) as exc:
        return None, str(exc)
    parts = urlsplit(url)
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    headers = {**headers, "Host": parts.netloc, "Content-Type": "application/json", "User-Agent": USER_AGENT}
    limits = httpx.Timeout(timeout, connect=min(timeout, settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS))
    verify = ssl.create_default_context(cafile=settings.WEBHOOK_CA_FILE) if settings.WEBHOOK_CA_FILE else True
    error = ""
    with httpx.Client(timeout=limits, verify=verify, follow_redirects=False, trust_env=False) as client:
        for address in addresses:
            literal = f"[{address}]" if address.version == 6 else str(address)
            pinned = parts._replace(netloc=f"{literal}:{port}").geturl()
            try:
                with client.stream("POST", pinned, content=body, headers=headers, extensions=extensions) as answer:
                    code = answer.status_code
            except httpx.ConnectError as exc:
                error = f"Could not connect to {address}: {exc}"
                continue  # the name's next address
            except httpx.TimeoutException:
                return None, f"No answer within {timeout:g} seconds."
            except httpx.HTTPError as exc:
                return None, f"{type(exc).__name__}: {exc}"[:500]
            return code, "" if 200 <= code < 300 else f"Answered {code}."
    return None, error[:500]
