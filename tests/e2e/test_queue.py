"""The queue life cycle, end to end: trace headers at final delivery,
retries with backoff, the delay warning and the failure notification
(RFC 3464, parsed back with Python's email package), no notification
for the null sender, a notification to a remote sender that waits in
the queue, and the `netjes queue` command against a running daemon.

A Maildir is broken by putting a plain file where its directory should
be (a temporary failure even for root); short durations in the config
make the life cycle run in seconds. Waits poll for results, never sleep
for a fixed time.
"""

import email
import email.policy
import json
import os
import re
import smtplib
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
import daemon as d  # noqa: E402

ALICE = "alice@example.test"
BOB = "bob@example.test"
USERS = [ALICE, BOB]
FAST = """
[limits]
banner_delay = 0

[delivery]
retry_interval = 1
retry_max = 1
queue_lifetime = 4
delay_warning = 1
"""
SLOW = """
[limits]
banner_delay = 0

[delivery]
retry_interval = 1h
"""


def send(srv, sender, rcpts, msgid, subject="test"):
    lst = srv.listener("smtp")
    body = (f"From: <{sender or 'nobody@remote.example'}>\r\n"
            f"To: <{rcpts[0]}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{msgid}>\r\n\r\nhello\r\n")
    with smtplib.SMTP(lst.address, lst.port, timeout=d.IO_TIMEOUT) as c:
        c.ehlo("client.example")
        c.sendmail(sender, rcpts, body)
    m = re.findall(r"queue_id=(\w+) from=<[^>]*> nrcpt", srv.stderr())
    return m[-1]


def messages(srv, addr):
    path = srv.maildir(addr)
    if not (path / "new").is_dir():
        return []
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.compat32)
            for p in sorted((path / "new").iterdir())]


def break_maildir(srv, addr):
    path = srv.maildir(addr)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("not a directory\n")
    srv.give(path)
    return path


def queue_cli(srv, *args):
    r = subprocess.run([d.netjes_bin(), "queue", *args, "-c",
                        str(srv.config_path)], capture_output=True,
                       text=True, timeout=30, env=d.sanitizer_env())
    return r


def test_return_path_and_delivered_to_on_top(tmp_path):
    srv = d.Daemon(tmp_path, users=USERS, extra=FAST).start()
    try:
        send(srv, "sender@remote.example", [ALICE], "rp@test")
        send(srv, "", [BOB], "null@test")
        d.wait_for(lambda: messages(srv, ALICE) and messages(srv, BOB),
                   d.IO_TIMEOUT, "both delivered")
        raw = next((srv.maildir(ALICE) / "new").iterdir()).read_bytes()
        lines = raw.split(b"\n")
        assert lines[0] == b"Return-Path: <sender@remote.example>"
        assert lines[1] == b"Delivered-To: alice@example.test"
        # then our headers: the verdict's, and Authentication-Results
        # right above our Received
        assert lines[2].startswith(b"X-Spam-Score:")
        ar = next(i for i, ln in enumerate(lines)
                  if ln.startswith(b"Authentication-Results:"))
        rcvd = next(i for i, ln in enumerate(lines)
                    if ln.startswith(b"Received:"))
        assert 2 < ar < rcvd
        assert messages(srv, BOB)[0]["Return-Path"] == "<>"
        # the spool file is not rewritten: the queue is empty again
        srv.wait_log("op=remove", count=2)
        assert list((srv.data_dir / "spool" / "queue").iterdir()) == []
    finally:
        srv.assert_clean_stop()


def dsn_parts(msg):
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    parts = msg.get_payload()
    assert [p.get_content_type() for p in parts] == [
        "text/plain", "message/delivery-status", "text/rfc822-headers"]
    # message/delivery-status: the per-message block, then one per rcpt
    blocks = parts[1].get_payload()
    return parts[0].get_payload(), blocks, parts[2].get_payload()


def test_delay_warning_then_failure_dsn_to_local_sender(tmp_path):
    srv = d.Daemon(tmp_path, users=USERS, extra=FAST).start()
    try:
        break_maildir(srv, ALICE)
        qid = send(srv, BOB, [ALICE], "doomed@test", subject="doomed")
        d.wait_for(lambda: len(messages(srv, BOB)) >= 2, 20,
                   "the delayed and the failed DSN")
        log = srv.stderr()
        assert log.count(f"event=deliver.dsn queue_id={qid}") == 2
        assert log.count("event=deliver.deferred") >= 2
        delayed, failed = messages(srv, BOB)[:2]
        for m in (delayed, failed):
            assert m["Return-Path"] == "<>"
            assert m["To"] == f"<{BOB}>"
            assert m["Auto-Submitted"] == "auto-replied"
        text, blocks, headers = dsn_parts(delayed)
        assert blocks[0]["Reporting-MTA"] == "dns; mx.example.test"
        assert blocks[0]["Arrival-Date"]
        assert blocks[1]["Final-Recipient"] == f"rfc822; {ALICE}"
        assert blocks[1]["Action"] == "delayed"
        assert blocks[1]["Status"].startswith("4.")
        text, blocks, headers = dsn_parts(failed)
        assert blocks[1]["Action"] == "failed"
        assert blocks[1]["Status"].startswith("4.")
        assert "gave up" in blocks[1]["Diagnostic-Code"]
        assert "Not a directory" in text and ALICE in text
        assert "Message-ID: <doomed@test>" in headers
        assert "Subject: doomed" in headers
        assert "hello" not in headers
        # the original is gone from the queue; the DSN was delivered
        srv.wait_log(f"queue_id={qid} op=remove")
        assert not (srv.data_dir / "spool" / "queue" / f"{qid}.env").exists()
    finally:
        srv.assert_clean_stop()


def test_no_dsn_for_null_sender(tmp_path):
    srv = d.Daemon(tmp_path, users=USERS, extra=FAST).start()
    try:
        break_maildir(srv, ALICE)
        qid = send(srv, "", [ALICE], "bounce@test")
        srv.wait_log(f"event=deliver.failed queue_id={qid}", timeout=20)
        srv.wait_log(f"queue_id={qid} op=remove")
        log = srv.stderr()
        assert "dsn=no" in log
        assert "event=deliver.dsn " not in log
        assert messages(srv, BOB) == []
    finally:
        srv.assert_clean_stop()


def test_dsn_to_remote_sender_waits_in_queue(tmp_path):
    extra = FAST.replace("queue_lifetime = 4", "queue_lifetime = 3")
    srv = d.Daemon(tmp_path, users=USERS, extra=extra).start()
    try:
        break_maildir(srv, ALICE)
        qid = send(srv, "far@remote.example", [ALICE], "remote@test")
        srv.wait_log(f"event=deliver.dsn queue_id={qid} dsn_id=", count=2,
                     timeout=20)
        dsn_id = re.findall(rf"event=deliver.dsn queue_id={qid} "
                            r"dsn_id=(\w+) to=<far@remote.example> "
                            r"action=failed", srv.stderr())[0]
        env = srv.data_dir / "spool" / "queue" / f"{dsn_id}.env"
        d.wait_for(lambda: env.exists() and "outbound" in env.read_text(),
                   d.IO_TIMEOUT, "the DSN waiting for outbound delivery")
        text = env.read_text()
        assert "rcpt addr=far@remote.example" in text
        assert "\nfrom -\n" in text and "no-dsn 1" in text
        # it is dropped at the end of its own lifetime, with no DSN
        # about it (its sender is null): no loop
        srv.wait_log(f"event=deliver.failed queue_id={dsn_id}", timeout=20)
        srv.wait_log(f"queue_id={dsn_id} op=remove")
        assert srv.stderr().count("event=deliver.dsn ") == 2
    finally:
        srv.assert_clean_stop()


# ---- netjes queue ---------------------------------------------------------

def queued(srv, broken=True, sender="sender@remote.example", msgid="q@test"):
    """A message deferred (Maildir broken) and not due for an hour."""
    if broken:
        break_maildir(srv, ALICE)
    qid = send(srv, sender, [ALICE], msgid)
    srv.wait_log(f"event=deliver.deferred queue_id={qid}")
    return qid


def cli_json(srv, *args):
    r = queue_cli(srv, *args, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_queue_list_and_show(tmp_path):
    srv = d.Daemon(tmp_path, users=USERS, extra=SLOW).start()
    try:
        r = queue_cli(srv, "list")
        assert r.returncode == 0 and r.stdout == "queue is empty\n"
        assert cli_json(srv, "list")["messages"] == []
        qid = queued(srv)
        r = queue_cli(srv, "list")
        assert r.returncode == 0
        assert r.stdout.startswith(qid) and "<sender@remote.example>" in \
            r.stdout and "1/1 pending active" in r.stdout
        listed = cli_json(srv, "list")
        assert listed["spool"] == str(srv.data_dir / "spool")
        [m] = listed["messages"]
        assert m["id"] == qid and m["from"] == "sender@remote.example"
        assert m["hold"] is False and m["pending"] == 1
        [rc] = m["recipients"]
        assert rc["address"] == ALICE and rc["state"] == "pending"
        assert rc["attempts"] == 1 and "Not a directory" in rc["reason"]
        # the backoff: the next attempt an hour after the first
        assert 3500 <= rc["next_attempt"] - rc["first_attempt"] <= 3700
        shown = cli_json(srv, "show", qid)
        assert shown["id"] == qid and shown["client_ip"] == "127.0.0.1"
        assert shown["client_helo"] == "client.example"
        r = queue_cli(srv, "show", qid)
        assert f"id: {qid}\n" in r.stdout
        assert f"rcpt: <{ALICE}> pending attempts=1" in r.stdout
        r = queue_cli(srv, "show", "0" * 20)
        assert r.returncode == 1 and "no such message" in r.stderr
        r = queue_cli(srv, "show", "../etc/passwd")
        assert r.returncode == 2 and "not a queue ID" in r.stderr
        r = queue_cli(srv, "frobnicate")
        assert r.returncode == 2
    finally:
        srv.assert_clean_stop()


def test_queue_hold_retry_release_while_running(tmp_path):
    srv = d.Daemon(tmp_path, users=USERS, extra=SLOW).start()
    try:
        qid = queued(srv)
        out = cli_json(srv, "hold", qid)
        assert out == {"id": qid, "action": "hold", "result": "ok",
                       "hold": True}
        srv.maildir(ALICE).unlink()  # the mailbox is fixed
        r = queue_cli(srv, "retry", qid)
        assert r.returncode == 0 and "held" in r.stdout
        # the daemon looked at it again (woken by the change) and left it
        srv.wait_log(f"event=deliver.held queue_id={qid}", count=2)
        assert cli_json(srv, "show", qid)["hold"] is True
        assert messages(srv, ALICE) == []
        out = cli_json(srv, "release", qid)
        assert out["action"] == "release" and out["hold"] is False
        # due at once, not in an hour: the daemon noticed the release
        d.wait_for(lambda: messages(srv, ALICE), 10, "delivery on release")
        srv.wait_log(f"queue_id={qid} op=remove")
        assert cli_json(srv, "list")["messages"] == []
    finally:
        srv.assert_clean_stop()


def test_queue_retry_makes_due_now(tmp_path):
    srv = d.Daemon(tmp_path, users=USERS, extra=SLOW).start()
    try:
        qid = queued(srv)
        srv.maildir(ALICE).unlink()
        out = cli_json(srv, "retry", qid)
        assert out == {"id": qid, "action": "retry", "result": "ok",
                       "hold": False}
        d.wait_for(lambda: messages(srv, ALICE), 10, "delivery on retry")
        assert messages(srv, ALICE)[0]["Message-ID"] == "<q@test>"
    finally:
        srv.assert_clean_stop()


def test_queue_delete_and_held_never_expires(tmp_path):
    extra = SLOW + "queue_lifetime = 2\ndelay_warning = 1\n"
    srv = d.Daemon(tmp_path, users=USERS, extra=extra).start()
    try:
        gone = queued(srv, sender=BOB, msgid="gone@test")
        out = cli_json(srv, "delete", gone)
        assert out == {"id": gone, "action": "delete", "result": "ok"}
        srv.wait_log(f"event=deliver.gone queue_id={gone}")
        r = queue_cli(srv, "show", gone)
        assert r.returncode == 1
        kept = queued(srv, broken=False, sender=BOB, msgid="kept@test")
        assert cli_json(srv, "hold", kept)["hold"] is True
        srv.wait_log(f"event=deliver.held queue_id={kept}")
        # (on a loaded machine its first attempt may come after
        # delay_warning, with a warning DSN: only what follows the hold
        # counts below)
        held_at = len(srv.stderr())
        # past its lifetime, the daemon looks again (retry wakes it): a
        # held message is neither tried nor expired, and no DSN goes out
        received = cli_json(srv, "show", kept)["received"]
        d.wait_for(lambda: time.time() > received + 3, 10, "the lifetime")
        assert cli_json(srv, "retry", kept)["hold"] is True
        srv.wait_log(f"event=deliver.held queue_id={kept}", count=2)
        env = srv.data_dir / "spool" / "queue" / f"{kept}.env"
        assert env.exists()
        after = srv.stderr()[held_at:]
        assert "event=deliver.dsn " not in after
        assert f"event=deliver.failed queue_id={kept}" not in srv.stderr()
        # no failure report ever reached the sender
        assert not any((m["Subject"] or "").startswith("Undelivered")
                       for m in messages(srv, BOB))
    finally:
        srv.assert_clean_stop()


def test_queue_files_keep_the_spool_owner(tmp_path):
    srv = d.Daemon(tmp_path, users=USERS, extra=SLOW).start()
    try:
        qid = queued(srv)
        spool = srv.data_dir / "spool"
        os.chown(spool, 65534, 65534)
        assert cli_json(srv, "hold", qid)["hold"] is True
        st = (spool / "queue" / f"{qid}.env").stat()
        assert (st.st_uid, st.st_gid) == (65534, 65534)
        assert (spool / "lock").stat().st_uid == 65534
    finally:
        srv.assert_clean_stop()


def test_queue_usage_and_missing_spool(tmp_path):
    conf = tmp_path / "netjes.conf"
    conf.write_text(f"[server]\nhostname = mx.example.test\n"
                    f"data_dir = {tmp_path / 'nodata'}\n")
    run = lambda *a: subprocess.run([d.netjes_bin(), *a], capture_output=True,
                                    text=True, timeout=30,
                                    env=d.sanitizer_env())
    r = run("queue", "list", "-c", str(conf))
    assert r.returncode == 1 and "no spool at" in r.stderr
    # a typo in -c never creates a spool
    assert not (tmp_path / "nodata").exists()
    assert run("queue").returncode == 2
    assert run("queue", "hold").returncode == 2
    assert run("queue", "list", "extra").returncode == 2
    r = run("help", "queue")
    assert r.returncode == 0 and "netjes queue list" in r.stdout
    assert "queue" in run("help").stdout
