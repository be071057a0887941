"""meson install puts the binary, the manual pages, the example config and
the systemd unit in place; the pages are the binary's own tables, so every
config key and command is in them."""

import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
import daemon as d  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "etc" / "netjes.conf.example"


def build_dir():
    return Path(d.netjes_bin()).resolve().parent.parent


def install(dest):
    r = subprocess.run(["meson", "install", "-C", str(build_dir()),
                        "--destdir", str(dest), "--no-rebuild", "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    prefix = subprocess.run(
        ["meson", "introspect", "--buildoptions", str(build_dir())],
        capture_output=True, text=True, check=True).stdout
    m = re.search(r'"name": "prefix", "value": "([^"]+)"', prefix)
    assert m, "no prefix in meson introspect"
    return dest / m.group(1).lstrip("/")


def render(page):
    env = dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="")
    r = subprocess.run(["man", "-P", "cat", "-l", str(page)],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "warning" not in r.stderr.lower(), r.stderr
    return r.stdout


def example_keys():
    keys = set()
    for line in EXAMPLE.read_text().splitlines():
        m = re.match(r"#?\s*([a-z_]+)\s*=", line)
        if m and not line.startswith("# "):
            keys.add(m.group(1))
    return keys


def test_meson_install_puts_everything_in_place(tmp_path):
    root = install(tmp_path / "dest")
    exe = root / "bin" / "netjes"
    assert os.access(exe, os.X_OK)
    man8 = root / "share" / "man" / "man8" / "netjes.8"
    man5 = root / "share" / "man" / "man5" / "netjes.conf.5"
    for page in (man8, man5):
        assert page.read_text().startswith(".TH ")
    text8 = render(man8)
    for cmd in ("serve", "config", "dns", "spf", "dkim", "auth", "arc",
                "user", "queue"):
        assert re.search(rf"^\s+{cmd}\b", text8, re.M), cmd
    text5 = render(man5)
    keys = example_keys()
    assert {"hostname", "user", "message_deadline", "retry_interval",
            "owner"} <= keys
    for key in keys:
        assert re.search(rf"\b{key}\b", text5), f"{key} not in netjes.conf(5)"
    example = root / "share" / "doc" / "netjes" / "netjes.conf.example"
    assert example.read_text() == EXAMPLE.read_text()
    unit = (root / "lib" / "systemd" / "system" / "netjes.service").read_text()
    assert str(tmp_path) not in unit  # the installed paths, not destdir's
    m = re.search(r"^ExecStart=(\S+) serve -c (\S+)$", unit, re.M)
    assert m, unit
    assert m.group(1).endswith("/bin/netjes") and m.group(1).startswith("/")
    assert m.group(2).endswith("/netjes/netjes.conf")
    assert "KillMode=mixed" in unit
    # netjes drops privileges itself
    assert not re.search(r"^User=", unit, re.M)
