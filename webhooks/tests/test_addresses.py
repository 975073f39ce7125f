"""The address guard (§12): https, or http to an allowed host; never an address on a private,
loopback or link-local network (IPv6 and IPv4-in-IPv6 included) unless the setting names it."""
import pytest

from webhooks.addresses import url_refusal

REFUSED = [
    "ftp://hooks.example.com/x",
    "hooks.example.com/x",
    "http://hooks.example.com/x",  # plain http to a host the setting does not name
    "https://user:pw@8.8.8.8/x",  # credentials would sit in the log and the audit trail
    "https://127.0.0.1/x",
    "https://127.8.9.10:8443/x",
    "https://10.0.0.1/x",
    "https://172.16.5.4/x",
    "https://192.168.1.1/x",
    "https://100.64.0.1/x",  # shared address space (carrier NAT)
    "https://169.254.169.254/latest/meta-data",  # link-local: the cloud's metadata service
    "https://0.0.0.0/x",
    "https://224.0.0.1/x",
    "https://[::1]/x",
    "https://[::]/x",
    "https://[fe80::1]/x",
    "https://[fc00::1]/x",
    "https://[fd12:3456::1]/x",
    "https://[::ffff:127.0.0.1]/x",  # IPv4-mapped loopback
    "https://[::ffff:10.0.0.1]/x",
    "https://[2002:c0a8:0101::1]/x",  # 6to4 of 192.168.1.1
    "https://[64:ff9b::a00:1]/x",  # NAT64 of 10.0.0.1
    "https://localhost/x",  # a name that resolves to loopback
    "https://localhost./x",
]


@pytest.mark.parametrize("url", REFUSED)
def test_refused(url, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    assert url_refusal(url), url


@pytest.mark.parametrize("url", [
    "https://8.8.8.8/hooks",
    "https://[2001:4860:4860::8888]/hooks",
    "https://name-that-does-not-resolve.invalid/hooks",  # accepted; its deliveries fail until it resolves
])
def test_accepted(url, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    assert url_refusal(url) is None


def test_the_setting_names_hosts_addresses_and_networks(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["localhost", "10.1.0.0/16", "::1"]
    assert url_refusal("http://localhost:8080/x") is None
    assert url_refusal("https://10.1.2.3/x") is None
    assert url_refusal("http://10.1.2.3/x") is None
    assert url_refusal("https://[::1]/x") is None
    assert url_refusal("https://10.2.0.1/x")  # outside the network named
    assert url_refusal("http://hooks.example.com/x")  # http stays for the hosts named
