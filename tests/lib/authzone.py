"""The sender domain the authentication tests share (test_auth_cli.py,
test_analyze.py): auth.example with what a well-run sender publishes
(PTR and A for 127.0.0.5, SPF, a DKIM key, DMARC p=reject), a liar at
127.0.0.6 whose PTR does not point back, and other.example whose SPF
allows nobody. The message is signed by dkimpy, an independent
implementation."""

import dkim

from mailtest import txt_strings

DOMAIN = "auth.example"
SELECTOR = "sel"


def zones(pub):
    """The zones for NsdServer (the dns_server fixture), for the DKIM
    public key pub (base64)."""
    zone = (f"@ IN SOA ns.{DOMAIN}. hostmaster.{DOMAIN}. 1 3600 600 "
            f"86400 300\n"
            f"@ IN NS ns.{DOMAIN}.\n"
            f"ns IN A 127.0.0.1\n"
            f"@ IN TXT \"v=spf1 ip4:127.0.0.5 -all\"\n"
            f"mail IN A 127.0.0.5\n"
            f"mail IN TXT \"v=spf1 a -all\"\n"
            f"liar IN A 192.0.2.1\n"
            f"_dmarc IN TXT \"v=DMARC1; p=reject; adkim=r; aspf=r\"\n"
            f"{SELECTOR}._domainkey IN TXT "
            f"{txt_strings('v=DKIM1; k=rsa; p=' + pub)}\n")
    rev = (f"@ IN SOA ns.{DOMAIN}. hostmaster.{DOMAIN}. 1 3600 600 "
           "86400 300\n"
           f"@ IN NS ns.{DOMAIN}.\n"
           f"5 IN PTR mail.{DOMAIN}.\n"
           f"6 IN PTR liar.{DOMAIN}.\n")
    other = (f"@ IN SOA ns.{DOMAIN}. hostmaster.{DOMAIN}. 1 3600 "
             "600 86400 300\n"
             f"@ IN NS ns.{DOMAIN}.\n"
             "@ IN TXT \"v=spf1 -all\"\n")
    return {DOMAIN: zone, "0.0.127.in-addr.arpa": rev,
            "other.example": other}


def signed_message(key, body="Hello, DMARC.\r\n"):
    """A message from sender@auth.example signed with key (PEM bytes);
    a body other than the signed one breaks the signature."""
    msg = (f"From: Sender <sender@{DOMAIN}>\r\n"
           f"To: rcpt@example.net\r\n"
           f"Subject: end to end\r\n"
           f"Message-ID: <e2e@{DOMAIN}>\r\n"
           f"\r\n"
           f"Hello, DMARC.\r\n").encode()
    sig = dkim.sign(msg, SELECTOR.encode(), DOMAIN.encode(), key,
                    include_headers=[b"from", b"to", b"subject"])
    return sig + msg.replace(b"Hello, DMARC.\r\n", body.encode())
