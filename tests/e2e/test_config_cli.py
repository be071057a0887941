"""End-to-end tests of `netjes config check` and `netjes config show`.

The real binary on real files: the annotated example passes; a broken
file gets every one of its errors as FILE:LINE: reason and exit 1; --json
has the documented shape; show prints the effective configuration, which
is itself a valid file; usage errors exit 2. Under the sanitizer build,
any AddressSanitizer or LeakSanitizer report fails the test.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "etc" / "netjes.conf.example"


def binary():
    path = Path(os.environ.get("NETJES_BIN")
                or ROOT / "build" / "asan" / "src" / "netjes")
    if not path.is_absolute():
        path = ROOT / path
    if not os.access(path, os.X_OK):
        pytest.fail(f"netjes binary not found at {path}", pytrace=False)
    return path


def netjes(*args, env=None):
    """Run netjes config ARGS; check it did not trip a sanitizer."""
    full_env = dict(os.environ)
    full_env.pop("NETJES_DATA", None)
    full_env.update(env or {})
    p = subprocess.run([str(binary()), "config", *map(str, args)],
                       capture_output=True, text=True, env=full_env,
                       timeout=30)
    assert "Sanitizer" not in p.stderr, p.stderr
    assert "runtime error" not in p.stderr, p.stderr
    return p


BROKEN = """\
[server]
hostname = mx
colour = blue
[listener "mx"]
address = 192.0.2.300
port = 70000
mode = lmtp
[listener "sub"]
address = 127.0.0.1
[bogus]
whatever = 1
[dns]
timeout
[domain "a_b.example"]
"""

# (line, part of the reason) for every error in BROKEN, in order
BROKEN_ERRORS = [
    (2, "bad hostname 'mx' in [server]: not a fully-qualified"),
    (3, "unknown key 'colour' in [server]"),
    (5, "bad address '192.0.2.300'"),
    (6, "bad port '70000' in [listener \"mx\"]: out of range"),
    (7, "bad mode 'lmtp'"),
    (8, "[listener \"sub\"] has no port"),
    (8, "[listener \"sub\"] has no mode"),
    (10, "unknown section [bogus]"),
    (13, "expected 'key = value'"),
    (14, "bad domain name 'a_b.example'"),
]


@pytest.fixture
def broken(tmp_path):
    path = tmp_path / "broken.conf"
    path.write_text(BROKEN)
    return path


def test_check_example_ok():
    p = netjes("check", "-c", EXAMPLE)
    assert p.returncode == 0, p.stderr
    assert p.stdout == f"{EXAMPLE}: ok\n"
    assert p.stderr == ""


def test_check_example_json():
    p = netjes("check", "--json", "-c", EXAMPLE)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"file": str(EXAMPLE), "ok": True,
                                    "errors": []}


def test_check_reports_every_error(broken):
    p = netjes("check", "-c", broken)
    assert p.returncode == 1
    assert p.stdout == ""
    lines = p.stderr.splitlines()
    assert len(lines) == len(BROKEN_ERRORS), p.stderr
    for got, (line, part) in zip(lines, BROKEN_ERRORS):
        assert got.startswith(f"{broken}:{line}: "), got
        assert part in got, got


def test_check_json_errors(broken):
    p = netjes("check", "-c", broken, "--json")
    assert p.returncode == 1
    assert p.stderr == ""
    doc = json.loads(p.stdout)
    assert set(doc) == {"file", "ok", "errors"}
    assert doc["file"] == str(broken)
    assert doc["ok"] is False
    assert len(doc["errors"]) == len(BROKEN_ERRORS)
    for err, (line, part) in zip(doc["errors"], BROKEN_ERRORS):
        assert set(err) == {"file", "line", "reason"}
        assert err["file"] == str(broken)
        assert err["line"] == line
        assert part in err["reason"]


def test_check_missing_file(tmp_path):
    missing = tmp_path / "nope.conf"
    p = netjes("check", "-c", missing)
    assert p.returncode == 1
    assert p.stderr.startswith(f"{missing}: cannot open: ")
    doc = json.loads(netjes("check", "-c", missing, "--json").stdout)
    assert doc["ok"] is False and doc["errors"][0]["line"] == 0


def test_check_long_line_and_duplicates(tmp_path):
    conf = tmp_path / "long.conf"
    conf.write_text("[server]\n"
                    "data_dir = /" + "d" * 300 + "\n"
                    "log_level = debug\n"
                    "log_level = info\n"
                    "[domain \"A.example\"]\n"
                    "[domain \"a.EXAMPLE.\"]\n"
                    "[listener \"x\"]\naddress = ::\nport = 25\nmode = smtp\n"
                    "[listener \"y\"]\naddress = ::1\nport = 25\n"
                    "mode = smtp\n")
    p = netjes("check", "-c", conf)
    assert p.returncode == 1
    assert p.stderr.splitlines() == [
        f"{conf}:2: line too long (312 bytes; a key line holds at most 199)",
        f"{conf}:4: duplicate key 'log_level' in [server] (first on line 3)",
        f"{conf}:6: duplicate domain 'a.example' (first on line 5)",
        f"{conf}:13: listener 'y' on ::1 port 25 clashes with listener 'x' "
        f"on :: (line 7)",
    ]


def test_show_defaults():
    p = netjes("show")
    assert p.returncode == 0, p.stderr
    assert "[listener \"smtp\"]\naddress = 127.0.0.1\nport = 2525\n" \
        "mode = smtp\n" in p.stdout
    assert "[domain \"example.test\"]" in p.stdout
    assert "data_dir = ./var\n" in p.stdout
    p = netjes("show", env={"NETJES_DATA": "/srv/netjes-data"})
    assert "data_dir = /srv/netjes-data\n" in p.stdout


SMALL = """\
[server]
hostname = MX.Example.ORG
log_level = debug
[dns]
nameserver = 192.0.2.53:5353
timeout = 1.5
[listener "mx"]
address = 0.0.0.0
port = 25
mode = smtp
[domain "B\u00fccher.example"]
"""


def test_show_reflects_file(tmp_path):
    conf = tmp_path / "small.conf"
    conf.write_text(SMALL, encoding="utf-8")
    p = netjes("show", "-c", conf)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "hostname = mx.example.org\n" in out
    assert "log_level = debug\n" in out
    assert "nameserver = 192.0.2.53:5353\ntimeout = 1.5\n" in out
    assert "[listener \"mx\"]\naddress = 0.0.0.0\nport = 25\nmode = smtp\n" \
        in out
    # naming a listener replaces the defaults, a domain likewise
    assert "[listener \"smtp\"]" not in out
    assert "[domain \"xn--bcher-kva.example\"]" in out
    assert "example.test" not in out
    # what show prints is itself a valid configuration, and the same one
    again = tmp_path / "again.conf"
    again.write_text(out)
    assert netjes("check", "-c", again).returncode == 0
    assert netjes("show", "-c", again).stdout.split("\n", 1)[1] == \
        out.split("\n", 1)[1]


def test_show_json(tmp_path):
    conf = tmp_path / "small.conf"
    conf.write_text(SMALL, encoding="utf-8")
    p = netjes("show", "--json", "-c", conf)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["file"] == str(conf)
    assert doc["server"]["hostname"] == "mx.example.org"
    assert doc["server"]["log_level"] == "debug"
    assert doc["server"]["log_target"] == "stderr"
    assert doc["tls"] == {"cert": "", "key": ""}
    assert doc["dns"] == {"nameserver": "192.0.2.53:5353",
                          "timeout": 1.5, "message_deadline": 10}
    assert doc["listeners"] == [{"name": "mx", "address": "0.0.0.0",
                                 "port": 25, "mode": "smtp"}]
    assert doc["domains"] == [{"name": "xn--bcher-kva.example",
                               "catchall": ""}]
    assert json.loads(netjes("show", "--json").stdout)["file"] is None


def test_show_with_errors(broken):
    p = netjes("show", "-c", broken)
    assert p.returncode == 1
    assert p.stdout == ""
    assert len(p.stderr.splitlines()) == len(BROKEN_ERRORS)


@pytest.mark.parametrize("args", [
    [],
    ["check"],
    ["check", "--json"],
    ["frob"],
    ["check", "-c", str(EXAMPLE), "extra"],
    ["show", "extra"],
    ["check", "-c"],
    ["check", "--bogus", "-c", str(EXAMPLE)],
    ["show", "-x"],
])
def test_usage_errors(args):
    p = netjes(*args)
    assert p.returncode == 2, (args, p.stdout, p.stderr)
    assert p.stdout == ""
    assert p.stderr.startswith("netjes config: ")
    assert p.stderr.endswith("Try 'netjes help config'.\n")


def test_help():
    p = netjes("check", "--help")
    assert p.returncode == 0
    assert p.stdout.startswith("usage: netjes config check")


def example_keys():
    """(section, key) for every key line, commented out or not, of the
    annotated example."""
    section, keys = None, set()
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.lstrip("#").strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].split()[0]
        elif section and (" = " in line or line.endswith(" =")) and \
                " " not in line.split("=")[0].strip():
            keys.add((section, line.split("=")[0].strip()))
    return keys


def test_show_json_has_every_example_key():
    doc = json.loads(netjes("show", "--json", "-c", EXAMPLE).stdout)
    keys = example_keys()
    assert ("limits", "banner_delay") in keys and len(keys) > 20
    for section, key in keys:
        if section in ("listener", "domain", "alias"):
            plural = section + ("es" if section.endswith("s") else "s")
            if section == "alias":
                continue    # the example's alias is only a comment
            assert key in doc[plural][0], (section, key)
        else:
            assert key in doc[section], (section, key)
    text = netjes("show", "-c", EXAMPLE).stdout
    for section, key in keys:
        if section != "alias":
            assert "\n%s =" % key in text, key


def test_check_tls_files(tmp_path):
    def pair(name):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-subj", "/CN=mx.example.test", "-days", "2",
                        "-keyout", tmp_path / (name + ".key"),
                        "-out", tmp_path / (name + ".crt")],
                       check=True, capture_output=True)
    pair("a")
    pair("b")
    conf = tmp_path / "tls.conf"

    def check(cert, key):
        conf.write_text("[tls]\ncert = %s\nkey = %s\n" % (cert, key))
        return netjes("check", "-c", conf)
    assert check(tmp_path / "a.crt", tmp_path / "a.key").returncode == 0
    p = check(tmp_path / "a.crt", tmp_path / "b.key")
    assert p.returncode == 1 and str(tmp_path / "b.key") in p.stderr
    assert "does not match" in p.stderr
    p = check(tmp_path / "missing.crt", tmp_path / "a.key")
    assert p.returncode == 1
    assert str(tmp_path / "missing.crt") in p.stderr
    assert "No such file" in p.stderr
    p = check(tmp_path / "a.key", tmp_path / "a.key")
    assert p.returncode == 1 and "no PEM certificate" in p.stderr


def test_version_json_and_nameserver_usage():
    bin_ = os.environ.get("NETJES_BIN", "build/asan/src/netjes")
    p = subprocess.run([bin_, "version", "--json"], capture_output=True,
                       text=True)
    assert p.returncode == 0
    v = json.loads(p.stdout)
    assert v["name"] == "netjes" and v["version"] and v["openssl"]
    p = subprocess.run([bin_, "dns", "A", "example.test", "--nameserver",
                        "notanip"], capture_output=True, text=True)
    assert p.returncode == 2
    assert "--nameserver 'notanip'" in p.stderr
    p = subprocess.run([bin_, "help", "serve"], capture_output=True,
                       text=True)
    assert "SIGHUP" in p.stdout and "SIGTERM" in p.stdout
    assert "-c FILE" in p.stdout


def test_man_conf_has_every_key():
    bin_ = os.environ.get("NETJES_BIN", "build/asan/src/netjes")
    roff = subprocess.run([bin_, "doc", "man-conf"], capture_output=True,
                          text=True, check=True).stdout
    assert roff.startswith(".TH NETJES.CONF 5")
    for section, key in example_keys():
        assert "\\fB%s\\fR =" % key in roff, key
    man = subprocess.run([bin_, "doc", "man"], capture_output=True,
                         text=True, check=True).stdout
    assert man.startswith(".TH NETJES 8")
    assert ".SS serve" in man and ".SS doc" not in man
