"""Where a webhook may go: addresses checked as written and as they carry other addresses."""

from __future__ import annotations

import ipaddress

import pytest

from app.destinations import Refused, check_url, refusal


def _refused(address: str, allow_private_networks: bool = False) -> str | None:
    return refusal(ipaddress.ip_address(address), allow_private_networks)


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "2002:808:808::1"])
def test_public_addresses_may_receive(address: str) -> None:
    assert _refused(address) is None


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "fd00:ec2::254",
        "100.100.100.200",
        "192.0.0.192",  # Oracle Cloud
        "168.63.129.16",  # Azure's host agent: a public address
        "::ffff:169.254.169.254",
        "2002:a9fe:a9fe::1",  # 6to4 around 169.254.169.254
        "2002:a83f:8110::",  # 6to4 around 168.63.129.16
        "2001:0:4136:e378:8000:63bf:5601:5601",  # Teredo, its client 169.254.169.254
    ],
)
def test_metadata_addresses_are_refused_in_any_wrapping_and_whatever_the_settings(
    address: str,
) -> None:
    for allow_private_networks in (False, True):
        reason = _refused(address, allow_private_networks)
        assert reason is not None and "cloud metadata" in reason, (address, reason)


@pytest.mark.parametrize(
    "address", ["2002:7f00:1::1", "2002:a00:1::1", "2001:0:4136:e378:8000:63bf:80ff:fffe"]
)
def test_private_addresses_inside_ipv6_ones_are_refused_unless_allowed(address: str) -> None:
    reason = _refused(address)
    assert reason is not None and "private" in reason, (address, reason)
    assert _refused(address, allow_private_networks=True) is None


def test_a_literal_url_is_checked_on_what_it_carries() -> None:
    with pytest.raises(Refused, match="cloud metadata"):
        check_url("http://[2002:a9fe:a9fe::1]/hook", allow_private_networks=True)
    check_url("https://[2002:808:808::1]/hook", allow_private_networks=False)
