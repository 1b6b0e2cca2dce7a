"""Per-listener TLS: deliberately broken certificate profiles, protocol ranges and cipher lists,
each observed from a real client (Python's ssl, smtplib, curl) failing, or succeeding, as intended.
"""

import imaplib
import smtplib
import socket
import ssl
import subprocess

import pytest

from conftest import BIN, Sevenport
from helpers import run

PROFILES = ["valid", "self-signed", "expired", "not-yet-valid", "wrong-host", "untrusted-ca",
            "incomplete-chain", "weak-rsa1024", "weak-sha1"]


def implicit_listener(name, protocol="smtp", **tls):
    lines = [f"[listeners.{name}]", f'protocol = "{protocol}"', "port = 0", 'security = "implicit"']
    lines += [f'{key} = "{value}"' for key, value in tls.items()]
    return "\n".join(lines) + "\n"


PROFILE_CONFIG = "".join(
    implicit_listener(f"smtps-{p}", tls_certificate=p) for p in PROFILES
) + implicit_listener("imaps-expired", "imap", tls_certificate="expired") + implicit_listener(
    "smtps-rsa", tls_key="rsa-2048") + implicit_listener(
    "smtps-tls13", tls_min_version="1.3") + implicit_listener(
    "smtps-tls12", tls_max_version="1.2") + implicit_listener(
    "smtps-cipher", tls_max_version="1.2", tls_ciphers="ECDHE-ECDSA-AES128-GCM-SHA256") + implicit_listener(
    "smtps-suite", tls_min_version="1.3", tls_ciphersuites="TLS_CHACHA20_POLY1305_SHA256") + implicit_listener(
    "smtps-tls10", tls_min_version="1.0", tls_max_version="1.0") + """
[listeners.submission-expired]
protocol = "smtp"
port = 0
security = "starttls"
tls_certificate = "expired"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Sevenport(tmp_path_factory.mktemp("tls-profiles"), config_text=PROFILE_CONFIG)
    yield s
    assert s.stop() == 0, "sevenport did not exit cleanly:\n" + s.log_text()


def client_context(server):
    return ssl.create_default_context(cafile=server.ca_file)


def handshake(server, listener, ctx=None, server_hostname="localhost", host="127.0.0.1"):
    """Completes a TLS handshake with `listener` and returns the SMTP/IMAP greeting line."""
    ctx = ctx or client_context(server)
    with socket.create_connection((host, server.port(listener)), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_hostname) as tls:
            return tls.recv(4096).decode()


def refused(server, listener, **kwargs):
    """The verification error text a default client reports for `listener`."""
    with pytest.raises(ssl.SSLCertVerificationError) as failure:
        handshake(server, listener, **kwargs)
    return failure.value.verify_message


def test_valid_profile_is_accepted(server):
    assert handshake(server, "smtps-valid").startswith("220 ")
    assert handshake(server, "smtps-rsa").startswith("220 ")


def test_rsa_key_is_served(server):
    ctx = client_context(server)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")
    assert handshake(server, "smtps-rsa", ctx).startswith("220 ")
    with pytest.raises(ssl.SSLError):
        handshake(server, "smtps-valid", ctx)  # an ECDSA key offers no ECDHE-RSA suite


@pytest.mark.parametrize("profile, expected", [
    ("self-signed", "self-signed certificate"),
    ("expired", "certificate has expired"),
    ("not-yet-valid", "certificate is not yet valid"),
    ("untrusted-ca", "unable to get local issuer certificate"),
    ("incomplete-chain", "unable to get local issuer certificate"),
])
def test_broken_profile_is_refused(server, profile, expected):
    assert expected in refused(server, f"smtps-{profile}")


def test_wrong_host_is_refused_by_name_and_by_address(server):
    assert "Hostname mismatch" in refused(server, "smtps-wrong-host", server_hostname="localhost")
    assert "IP address mismatch" in refused(server, "smtps-wrong-host", server_hostname="127.0.0.1")


def test_expired_on_imap_is_refused(server):
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate has expired"):
        imaplib.IMAP4_SSL("127.0.0.1", server.port("imaps-expired"), ssl_context=client_context(server))


def test_weak_rsa1024_is_refused_for_its_key_size_only(server):
    # OpenSSL 3.0's verifier words it "EE certificate key too weak" (older: "ee key too small").
    assert refused(server, "smtps-weak-rsa1024") == "EE certificate key too weak"
    ctx = client_context(server)
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # still verified against the CA, names checked
    assert handshake(server, "smtps-weak-rsa1024", ctx).startswith("220 ")


def test_weak_sha1_is_refused_for_its_digest(server):
    # OpenSSL 3.0's verifier words it so for the leaf too (X509_V_ERR_CA_MD_TOO_WEAK, the
    # "ca md too weak" of the TLS layer).
    assert refused(server, "smtps-weak-sha1") == "CA signature digest algorithm too weak"
    ctx = client_context(server)
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    assert handshake(server, "smtps-weak-sha1", ctx).startswith("220 ")


def test_curl_refuses_expired_with_exit_60(server):
    result = run(["curl", "-sS", "-m", "10", "--cacert", server.ca_file,
                  f"smtps://localhost:{server.port('smtps-expired')}/"])
    assert result.returncode == 60, result.stderr
    assert "expired" in result.stderr


def test_refused_handshake_is_logged_as_expected(server):
    refused(server, "smtps-expired")
    server.wait_log(r"smtps-expired .*handshake failed: .*certificate expired")
    server.wait_log(r"smtps-expired .*diagnosis: the client rejected the server certificate "
                    r"\(.*\), as it should: listener smtps-expired serves the deliberately broken "
                    r"\"expired\" certificate")


def test_startup_log_names_each_broken_profile(server):
    for profile in PROFILES[1:]:
        server.wait_log(f"listener smtps-{profile} serves a deliberately broken certificate, "
                        f"{profile}: ")
    assert "listener smtps-valid serves" not in server.log_text()


def test_starttls_with_expired_certificate_is_refused(server):
    with smtplib.SMTP("127.0.0.1", server.port("submission-expired"), timeout=5) as smtp:
        smtp.ehlo("client.test")
        with pytest.raises(ssl.SSLCertVerificationError, match="certificate has expired"):
            smtp.starttls(context=client_context(server))
    server.wait_log(r"submission-expired .*as it should: listener submission-expired")


def test_tls13_only_listener_refuses_a_tls12_client(server):
    ctx = client_context(server)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(ssl.SSLError, match="(?i)protocol version"):
        handshake(server, "smtps-tls13", ctx)
    server.wait_log(r"smtps-tls13 .*handshake failed: unsupported protocol")
    assert handshake(server, "smtps-tls13").startswith("220 ")


def test_tls12_only_listener_refuses_a_tls13_client(server):
    ctx = client_context(server)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    with pytest.raises(ssl.SSLError, match="(?i)protocol version"):
        handshake(server, "smtps-tls12", ctx)
    server.wait_log(r"smtps-tls12 .*handshake failed: unsupported protocol")
    ctx = client_context(server)
    with socket.create_connection(("127.0.0.1", server.port("smtps-tls12")), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() == "TLSv1.2"


def test_cipher_lists_are_applied(server):
    ctx = client_context(server)
    with socket.create_connection(("127.0.0.1", server.port("smtps-cipher")), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.cipher()[0] == "ECDHE-ECDSA-AES128-GCM-SHA256"
    with socket.create_connection(("127.0.0.1", server.port("smtps-suite")), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.cipher()[0] == "TLS_CHACHA20_POLY1305_SHA256"


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1 is deprecated:DeprecationWarning")
def test_tls10_listener(server):
    """TLS 1.0 needs security level 0 on both sides (OpenSSL 3 offers no TLS 1.0 cipher above it)."""
    ctx = client_context(server)
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with socket.create_connection(("127.0.0.1", server.port("smtps-tls10")), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() == "TLSv1"
    # A default client does not go below TLS 1.2.
    with pytest.raises(ssl.SSLError):
        handshake(server, "smtps-tls10")


@pytest.mark.parametrize("key, value", [("tls_ciphers", "NO-SUCH-CIPHER"),
                                        ("tls_ciphersuites", "TLS_NO_SUCH_SUITE")])
def test_cipher_string_openssl_rejects_stops_startup(tmp_path, key, value):
    cfg = tmp_path / "sevenport.toml"
    cfg.write_text(implicit_listener("smtps", **{key: value}))
    result = subprocess.run([BIN, "--ephemeral", "--state-dir", str(tmp_path / "state"), "--config",
                             str(cfg)], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert f'listener smtps: {key}: OpenSSL rejects' in result.stderr, result.stderr
