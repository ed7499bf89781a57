"""Kerberos for the simulated fleet: an MIT KDC per lab (kdc.py) and the endpoints' acceptor."""

from .kdc import DOMAIN, DOMAIN_ADMIN, KDC, REALM, KerberosUnavailable, hostname_of

__all__ = ["DOMAIN", "DOMAIN_ADMIN", "KDC", "REALM", "KerberosUnavailable", "hostname_of"]
