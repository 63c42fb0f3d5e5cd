"""Posting the plan to group robots against a real HTTP server on 127.0.0.1 standing in for both
WeCom and DingTalk: request shapes, the DingTalk signature, 4096-byte parts, errcode reporting, no
second post for an unchanged rerun, and nothing typed becoming markup."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd

from kis_batch.delivery.channel import send
from kis_batch.delivery.plan import RunInfo
from kis_batch.delivery.robots import (
    DINGTALK,
    POST_BYTES,
    WECOM,
    RobotChannel,
    group_plan,
    md_text,
    mobile_of,
)
from kis_batch.outputs import SENT_LOG
from kis_batch.render.mail_roster import OverdueCase, RunDigest, Stop, Waiting

TODAY, PLAN = "2026-11-27", "2026-11-30"
RUN = RunInfo(pd.Timestamp(TODAY).date(), pd.Timestamp(PLAN).date())
SECRET = "SECtest-signing-secret"
STAFF = pd.DataFrame([
    {"staff_id": "E01", "name": "张伟", "role": "服务工程师", "email": None, "mobile": "13800000001", "active": True},
    {"staff_id": "E02", "name": "王强", "role": "服务工程师", "email": None, "mobile": None, "active": True},
    {"staff_id": "E03", "name": "赵敏", "role": "实施专员", "email": None, "mobile": "13800000003", "active": True},
], dtype=object)
HOSTILE = ("<script>alert(1)</script>", "**紧急**")


def _stop(order: int, customer: str, problem: str = "凭证过账报错") -> Stop:
    return Stop(order, "派工", f"T{order:03d}", customer, "李会计", "0571-88001234", "文三路1号", problem, False)


DIGEST = RunDigest(
    routes={"E01": (_stop(1, HOSTILE[0]), _stop(2, HOSTILE[1])),
            "E03": (replace(_stop(1, "丙公司", "实施培训"), open_case="TS20261126-C0101"),)},
    backlog=(Waiting("T009", "丁公司", "当日全组已满，顺延"),),
    overdue=(OverdueCase("TS20261120-C0343", "戊公司", "张伟", 5, "处理中"),),
)


@dataclass
class Robot:
    """What the stand-in server saw, and what it answers (errcode by the path's last part)."""

    requests: list[tuple[str, dict[str, list[str]], dict[str, Any]]] = field(default_factory=list)
    errcode: int = 0
    errmsg: str = "ok"


@contextmanager
def robot_server() -> Iterator[tuple[str, Robot]]:
    robot = Robot()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            url = urlsplit(self.path)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
            robot.requests.append((url.path, parse_qs(url.query), body))
            reply = json.dumps({"errcode": robot.errcode, "errmsg": robot.errmsg}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", robot
    finally:
        server.shutdown()
        server.server_close()


def test_wecom_gets_markdown_and_a_text_message_calling_on_the_engineers_by_mobile(tmp_path: Path) -> None:
    with robot_server() as (base, robot):
        channel = RobotChannel(WECOM, f"{base}/cgi-bin/webhook/send?key=test-key")
        report = send(group_plan(tmp_path, RUN, STAFF, DIGEST, WECOM), channel)
    assert not report.failed and len(report.sent) == 2
    (path, query, markdown), (_, _, text) = robot.requests
    assert path == "/cgi-bin/webhook/send" and query == {"key": ["test-key"]}
    assert markdown["msgtype"] == "markdown" and set(markdown) == {"msgtype", "markdown"}
    content = markdown["markdown"]["content"]
    assert content.startswith(f"### 派工计划 {PLAN}") and "**张伟**" in content and "**赵敏**" in content
    assert "王强" not in content  # no stops, no line
    assert "1. 丙公司（投诉回访 TS20261126-C0101） · 文三路1号" in content
    assert "#### 未派 1 单" in content and "#### 超期投诉 1 起" in content and "TS20261120-C0343" in content
    assert text == {"msgtype": "text", "text": {"content": text["text"]["content"],
                                                "mentioned_mobile_list": ["13800000001", "13800000003"]}}


def test_dingtalk_requests_are_signed_and_mention_by_mobile(tmp_path: Path) -> None:
    now = 1_764_250_000.123
    with robot_server() as (base, robot):
        channel = RobotChannel(DINGTALK, f"{base}/robot/send?access_token=test-token", SECRET, clock=lambda: now)
        report = send(group_plan(tmp_path, RUN, STAFF, DIGEST, DINGTALK), channel)
    assert not report.failed
    [(path, query, body)] = robot.requests
    timestamp = str(round(now * 1000))
    expected = base64.b64encode(hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256).digest())
    assert path == "/robot/send" and query["access_token"] == ["test-token"] and query["timestamp"] == [timestamp]
    assert query["sign"] == [expected.decode()]  # parse_qs undoes the urlencoding
    assert body["msgtype"] == "markdown" and body["markdown"]["title"] == f"派工计划 {PLAN}"
    assert body["at"] == {"atMobiles": ["13800000001", "13800000003"], "isAtAll": False}
    assert "**张伟** @13800000001" in body["markdown"]["text"] and "**赵敏** @13800000003" in body["markdown"]["text"]


def test_a_long_plan_goes_in_parts_of_at_most_4096_bytes_split_at_lines(tmp_path: Path) -> None:
    routes = {"E01": tuple(_stop(n, f"杭州第{n}号很长名字的客户有限公司", "凭证过账报错，" * 8) for n in range(1, 61))}
    plan = group_plan(tmp_path, RUN, STAFF, RunDigest(routes=routes), DINGTALK)
    with robot_server() as (base, robot):
        send(plan, RobotChannel(DINGTALK, f"{base}/robot/send?access_token=t"))
    texts = [body["markdown"]["text"] for _, _, body in robot.requests]
    assert len(texts) >= 3 and all(len(text.encode("utf-8")) <= POST_BYTES for text in texts)
    # Every stop line whole in exactly one part; later parts say which part they are.
    for n in range(1, 61):
        assert sum(f"\n{n}. 杭州第{n}号很长名字的客户有限公司" in f"\n{t}" for t in texts) == 1
    assert texts[1].startswith(f"### 派工计划 {PLAN}（2/{len(texts)}）\n")
    # Only the part naming 张伟 calls on him.
    assert [body["at"]["atMobiles"] for _, _, body in robot.requests] == [["13800000001"]] + [[]] * (len(texts) - 1)


def test_an_errcode_is_reported_with_its_errmsg_and_the_part_goes_on_the_next_send(tmp_path: Path) -> None:
    plan = group_plan(tmp_path, RUN, STAFF, DIGEST, WECOM)
    with robot_server() as (base, robot):
        channel = RobotChannel(WECOM, f"{base}/cgi-bin/webhook/send?key=group-key-123456")
        robot.errcode, robot.errmsg = 93000, "invalid webhook url"
        refused = send(plan, channel)
        robot.errcode = 0
        retried = send(plan, channel)
        again = send(group_plan(tmp_path, RUN, STAFF, DIGEST, WECOM), channel)
    assert [reason for _, reason in refused.failed] == ["企业微信群机器人拒收（errcode 93000：invalid webhook url）"] * 2
    assert len(retried.sent) == 2 and again.sent == [] and len(again.already_sent) == 2
    assert len(robot.requests) == 4  # two refused, two delivered, nothing for the unchanged rerun
    logged = json.loads((tmp_path / SENT_LOG).read_text(encoding="utf-8"))["sent"]
    assert {entry["channel"] for entry in logged.values()} == {WECOM}
    assert "group-key-123456" not in json.dumps(logged)  # a fingerprint and the masked webhook only


def _unescape(markdown: str) -> tuple[str, list[str]]:
    """The text a CommonMark reader shows for escaped text, and the markup characters it would act on."""
    shown, bare, chars = [], [], iter(markdown)
    for char in chars:
        if char == "\\":
            shown.append(next(chars))
            continue
        if char in "`*_[]<>~|&#!":
            bare.append(char)
        shown.append(char)
    return "".join(shown), bare


def test_typed_markup_is_shown_as_typed_in_markdown(tmp_path: Path) -> None:
    text = group_plan(tmp_path, RUN, STAFF, DIGEST, DINGTALK).messages[0].body
    assert r"1. \<script\>alert(1)\</script\>" in text and r"2. \*\*紧急\*\*" in text
    assert "<script>" not in text and "**紧急**" not in text
    for value in (*HOSTILE, "[链接](https://x.example) `代码` ~~删~~ | 表 & &lt; #标题 ![图](x) \\*"):
        assert _unescape(md_text(value)) == (value, [])


def test_mobile_numbers_are_read_as_digits() -> None:
    assert mobile_of("138 0000 0001") == mobile_of("138-0000-0001") == "13800000001"
    assert mobile_of("无") == mobile_of(None) == ""
