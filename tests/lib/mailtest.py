"""Small helpers the end-to-end suites share, beside daemon.py.

ehlo() reads a multi-line EHLO reply over a daemon.SmtpLine; make_cert()
and the fingerprint functions make a throwaway certificate and tell
which certificate a TLS peer presented; rsa_key_pair() and txt_strings()
make a DKIM key and its TXT record for a test zone. Keys and
certificates come from the openssl CLI, an implementation independent
of the code under test.
"""
import base64
import hashlib
import ssl
import subprocess
from pathlib import Path

OPENSSL_TIMEOUT = 60


def ehlo(c):
    """Send EHLO and return every line of the reply, the last included."""
    c.send("EHLO client.example\r\n")
    lines = []
    while True:
        line = c.reply()
        lines.append(line)
        if line[3:4] != "-":
            return lines


def make_cert(directory, name, hostname):
    """A self-signed EC certificate and key for hostname, as two files."""
    cert = Path(directory) / f"{name}.crt"
    key = Path(directory) / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
         "-subj", f"/CN={hostname}", "-addext", f"subjectAltName=DNS:{hostname}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=OPENSSL_TIMEOUT)
    return cert, key


def cert_fingerprint(pem_path):
    """SHA-256 of the DER form of the certificate in a PEM file."""
    der = ssl.PEM_cert_to_DER_cert(Path(pem_path).read_text())
    return hashlib.sha256(der).hexdigest()


def peer_fingerprint(conn):
    """SHA-256 of the certificate the server presented on a TLS SmtpLine."""
    return hashlib.sha256(conn.sock.getpeercert(binary_form=True)).hexdigest()


def rsa_key_pair(directory):
    """An RSA-2048 key: (private key PEM bytes, base64 DER public key, as
    a DKIM p= tag wants it)."""
    key = Path(directory) / "key.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", str(key)], check=True,
                   capture_output=True, timeout=OPENSSL_TIMEOUT)
    der = subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout",
                          "-outform", "DER"], check=True,
                         capture_output=True,
                         timeout=OPENSSL_TIMEOUT).stdout
    return key.read_bytes(), base64.b64encode(der).decode()


def txt_strings(s):
    """A long TXT value as quoted strings of at most 200 octets (one
    character-string holds 255)."""
    return " ".join('"%s"' % s[i:i + 200] for i in range(0, len(s), 200))
