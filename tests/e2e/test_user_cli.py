"""End-to-end tests of `netjes user add|passwd|del|list|verify`.

The real binary on real files: passwords come through stdin (and once
through a pseudo-terminal, asked twice without echo), never argv; the
hashes written are yescrypt in Dovecot's passwd-file syntax and are
checked by an independent implementation (Python's crypt module over
libxcrypt); other lines of the file survive every edit byte for byte;
exit codes are 0 ok, 1 failure, 2 usage. Under the sanitizer build any
AddressSanitizer or LeakSanitizer report fails the test.
"""

import json
import os
import pty
import pwd
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
PYTHON = "/usr/bin/python3"     # Debian's, with the crypt module


def binary():
    path = Path(os.environ.get("NETJES_BIN")
                or ROOT / "build" / "asan" / "src" / "netjes")
    if not path.is_absolute():
        path = ROOT / path
    if not os.access(path, os.X_OK):
        pytest.fail(f"netjes binary not found at {path}", pytrace=False)
    return path


def user(*args, stdin="", env=None):
    """Run netjes user ARGS with stdin; check no sanitizer tripped."""
    full_env = dict(os.environ)
    full_env.pop("NETJES_DATA", None)
    full_env.update(env or {})
    p = subprocess.run([str(binary()), "user", *map(str, args)],
                       input=stdin, capture_output=True, text=True,
                       env=full_env, timeout=60)
    assert "Sanitizer" not in p.stderr, p.stderr
    assert "runtime error" not in p.stderr, p.stderr
    return p


def crypt_ok(password, hashed):
    """Does Python's crypt (libxcrypt underneath) accept the hash?"""
    code = ("import crypt, sys\n"
            "pw, h = sys.argv[1], sys.argv[2]\n"
            "sys.exit(0 if crypt.crypt(pw, h) == h else 1)\n")
    p = subprocess.run([PYTHON, "-W", "ignore", "-c", code, password, hashed],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode in (0, 1), p.stderr
    return p.returncode == 0


def hash_of(path, name):
    for line in path.read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            assert fields[1].startswith("{CRYPT}$y$"), line
            return fields[1][len("{CRYPT}"):]
    raise AssertionError(f"{name} not in {path}")


@pytest.fixture
def users(tmp_path):
    return tmp_path / "users"


def test_add_list_verify_passwd_del(users):
    p = user("add", "Alice@Example.ORG", "--users-file", users,
             stdin="first secret\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "Alice@example.org: added\n"
    # readable by the server's account alone: root hands it to netjes
    assert (users.stat().st_mode & 0o777) == 0o600
    if os.geteuid() == 0:
        assert users.stat().st_uid == pwd.getpwnam("netjes").pw_uid
    assert crypt_ok("first secret", hash_of(users, "Alice@example.org"))
    assert not crypt_ok("first secreT", hash_of(users, "Alice@example.org"))

    p = user("list", "--users-file", users)
    assert (p.returncode, p.stdout, p.stderr) == (0, "Alice@example.org\n", "")

    p = user("verify", "alice@EXAMPLE.org", "--users-file", users,
             stdin="first secret\n")
    assert (p.returncode, p.stdout) == (0, "alice@example.org: ok\n")
    p = user("verify", "alice@example.org", "--users-file", users,
             stdin="wrong\n")
    assert (p.returncode, p.stdout) == (1, "alice@example.org: wrong password\n")
    p = user("verify", "bob@example.org", "--users-file", users,
             stdin="first secret\n")
    assert (p.returncode, p.stdout) == (1, "bob@example.org: no such user\n")

    p = user("passwd", "alice@example.org", "--users-file", users,
             stdin="second secret\r\n")
    assert p.returncode == 0, p.stderr
    assert crypt_ok("second secret", hash_of(users, "Alice@example.org"))
    assert user("verify", "alice@example.org", "--users-file", users,
                stdin="first secret").returncode == 1
    assert user("verify", "alice@example.org", "--users-file", users,
                stdin="second secret").returncode == 0

    p = user("del", "alice@example.org", "--users-file", users)
    assert (p.returncode, p.stdout) == (0, "alice@example.org: deleted\n")
    assert users.read_text() == ""
    assert user("list", "--users-file", users).stdout == ""


def test_failures_exit_1(users):
    assert user("add", "a@x.test", "--users-file", users,
                stdin="pw\n").returncode == 0
    p = user("add", "A@x.test", "--users-file", users, stdin="pw\n")
    assert p.returncode == 1 and "already exists" in p.stderr
    p = user("passwd", "b@x.test", "--users-file", users, stdin="pw\n")
    assert p.returncode == 1 and "no user b@x.test" in p.stderr
    p = user("del", "b@x.test", "--users-file", users)
    assert p.returncode == 1 and "no user" in p.stderr
    p = user("add", "c@x.test", "--users-file", users, stdin="")
    assert p.returncode == 1 and "empty password" in p.stderr
    p = user("add", "c@x.test", "--users-file", users, stdin="x" * 2000)
    assert p.returncode == 1
    p = user("add", "c@x.test", "--users-file",
             users.parent / "no" / "such" / "dir" / "users", stdin="pw\n")
    assert p.returncode == 1 and "cannot" in p.stderr
    # nothing but a's line in the file after all that
    assert [l.split(":")[0] for l in users.read_text().splitlines()] == \
        ["a@x.test"]


def test_list_of_a_missing_or_unreadable_file_is_an_error(users):
    # the server reads a missing file as "no users yet"; the CLI says
    # that the file named is not there (most likely the wrong name)
    p = user("list", "--users-file", users.parent / "nosuch")
    assert p.returncode == 1 and p.stdout == ""
    assert "cannot read the users file" in p.stderr
    assert "No such file or directory" in p.stderr
    assert "'netjes user add' creates it" in p.stderr
    p = user("list", "--json", "--users-file", users.parent / "nosuch")
    assert p.returncode == 1 and p.stdout == ""
    # something that is not a file
    d = users.parent / "adir"
    d.mkdir()
    p = user("list", "--users-file", d)
    assert p.returncode == 1 and p.stdout == ""
    assert f"cannot read {d}" in p.stderr


def test_usage_exit_2(users):
    # the password is never an argument
    p = user("add", "a@x.test", "secret", "--users-file", users)
    assert p.returncode == 2 and "unexpected argument 'secret'" in p.stderr
    assert not users.exists()
    assert user("add", "--users-file", users).returncode == 2
    assert user().returncode == 2
    assert user("frobnicate").returncode == 2
    assert user("list", "--bogus").returncode == 2
    assert user("add", "a@x.test", "--json", "--users-file",
                users).returncode == 2
    for bad in ["not-an-address", "a@", "@x.test", "a b@x.test",
                "a@x_y.test"]:
        p = user("add", bad, "--users-file", users, stdin="pw\n")
        assert p.returncode == 2, bad
        assert "bad address" in p.stderr
    assert not users.exists()
    p = user("--help")
    assert p.returncode == 0 and "netjes user add ADDRESS" in p.stdout


def test_edits_keep_other_lines_byte_for_byte(users):
    before = ("# netjes and dovecot users\n"
              "\n"
              "old@x.test:{SHA512-CRYPT}$6$abc$def:1000:1000:Old:/home/old::"
              "userdb_quota_rule=*:storage=1G\n"
              "crlf@x.test:{CRYPT}$5$s$h\r\n"
              "  # indented\n"
              "this line is broken\n"
              "plain@x.test:{PLAIN}secret:::\n")
    users.write_bytes(before.encode())
    os.chmod(users, 0o600)
    assert user("add", "new@x.test", "--users-file", users,
                stdin="pw\n").returncode == 0
    after = users.read_bytes().decode()
    assert after.startswith(before)
    added = after[len(before):]
    assert added.startswith("new@x.test:{CRYPT}$y$") and added.endswith("\n")
    assert (users.stat().st_mode & 0o777) == 0o600

    # list shows the good users and reports the bad lines with numbers
    p = user("list", "--users-file", users)
    assert p.stdout.splitlines() == ["old@x.test", "crlf@x.test", "new@x.test"]
    assert f"{users}:6: " in p.stderr and f"{users}:7: " in p.stderr
    doc = json.loads(user("list", "--json", "--users-file", users).stdout)
    assert doc["users"] == ["old@x.test", "crlf@x.test", "new@x.test"]
    # an indented '#' is no comment for Dovecot either: line 5 is bad
    assert [e["line"] for e in doc["errors"]] == [5, 6, 7]
    assert "{PLAIN}" in doc["errors"][2]["reason"]

    # passwd on old@: only its password field changes
    assert user("passwd", "old@x.test", "--users-file", users,
                stdin="npw\n").returncode == 0
    text = users.read_text()
    old_line = text.splitlines()[2]
    assert old_line.startswith("old@x.test:{CRYPT}$y$")
    assert old_line.endswith(":1000:1000:Old:/home/old::"
                             "userdb_quota_rule=*:storage=1G")
    assert crypt_ok("npw", old_line.split(":")[1][len("{CRYPT}"):])
    rest = before.replace(before.splitlines(True)[2], "")
    assert user("del", "old@x.test", "--users-file", users).returncode == 0
    assert user("del", "new@x.test", "--users-file", users).returncode == 0
    assert users.read_bytes().decode() == rest

    # passwd fixes a {PLAIN} line in place
    assert user("passwd", "plain@x.test", "--users-file", users,
                stdin="pw2\n").returncode == 0
    assert users.read_text().endswith(":::\n")
    assert user("verify", "plain@x.test", "--users-file", users,
                stdin="pw2\n").returncode == 0


def test_users_file_from_config_and_data_dir(tmp_path):
    conf = tmp_path / "netjes.conf"
    target = tmp_path / "conf-users"
    conf.write_text(f"[server]\nusers_file = {target}\n")
    assert user("add", "a@x.test", "-c", conf, stdin="pw\n").returncode == 0
    assert target.exists()
    assert user("list", "-c", conf).stdout == "a@x.test\n"
    # the default: DATA_DIR/users, the data directory made when missing
    data = tmp_path / "data"
    env = {"NETJES_DATA": str(data)}
    assert user("add", "b@x.test", stdin="pw\n", env=env).returncode == 0
    assert (data / "users").read_text().startswith("b@x.test:{CRYPT}$y$")
    assert user("list", env=env).stdout == "b@x.test\n"


def tty_run(args, answers):
    """Run netjes with a pseudo-terminal as its controlling terminal,
    typing each answer after a prompt; returns (status, output)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(str(binary()), [str(binary()), *map(str, args)])
    out = b""
    pending = list(answers)
    deadline = time.monotonic() + 30
    status = None
    eof = False
    answered = 0
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                eof = True      # the child closed the terminal: exited
                break
            out += chunk
            # one answer per prompt, each after its prompt is shown
            if pending and out.count(b"assword: ") > answered:
                os.write(fd, pending.pop(0).encode() + b"\n")
                answered += 1
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            break
    if status is None and eof:
        _, status = os.waitpid(pid, 0)
    if status is None:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        pytest.fail(f"netjes did not finish; output so far: {out!r}")
    try:
        while True:
            r, _, _ = select.select([fd], [], [], 0.1)
            if not r:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def test_terminal_asks_twice_without_echo(users):
    rc, out = tty_run(["user", "add", "t@x.test", "--users-file", users],
                      ["tty secret", "tty secret"])
    assert rc == 0, out
    assert "Password:" in out and "Retype password:" in out
    assert "tty secret" not in out      # never echoed
    assert crypt_ok("tty secret", hash_of(users, "t@x.test"))

    rc, out = tty_run(["user", "passwd", "t@x.test", "--users-file", users],
                      ["one", "two"])
    assert rc == 1 and "differ" in out
    assert crypt_ok("tty secret", hash_of(users, "t@x.test"))
