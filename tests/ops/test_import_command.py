"""`assure import members FILE`: counts, rejects file, exit codes 0 / 1 / 2."""

from __future__ import annotations

import io
import json
import sys

import pytest
from django.core.management import call_command

from assure.core.models import FeedRun
from assure.members.models import Member
from tests.members.lines import jsonl, member_line

pytestmark = pytest.mark.django_db


def run_import(path, *extra) -> tuple[int, str, str]:
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("import", "members", str(path), *extra, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_a_clean_file_exits_0_and_prints_the_counts(tmp_path):
    path = tmp_path / "members.jsonl"
    path.write_bytes(jsonl(member_line(1), member_line(2)))
    code, out, err = run_import(path)
    assert code == 0
    assert "members: 2 created, 0 updated, 0 unchanged, 0 rejected" in out
    assert err == ""  # no progress bar when stderr is not a terminal
    assert (tmp_path / "members.jsonl.rejects.jsonl").read_text() == ""
    assert FeedRun.objects.get().source == "cli"

    code, out, _err = run_import(path)
    assert code == 0
    assert "0 created, 0 updated, 2 unchanged, 0 rejected" in out


def test_rejected_lines_exit_1_and_go_to_the_rejects_file(tmp_path):
    path = tmp_path / "members.jsonl"
    path.write_bytes(
        jsonl(member_line(1), "not json", member_line(2, nir="123"), "", member_line(3))
    )
    code, out, _err = run_import(path, "--batch-size", "2")
    assert code == 1
    assert "2 created, 0 updated, 0 unchanged, 2 rejected" in out
    rejects = [
        json.loads(line)
        for line in (tmp_path / "members.jsonl.rejects.jsonl").read_text().splitlines()
    ]
    assert rejects == [
        {"line": 2, "external_id": None, "errors": {"__all__": ["invalid_json"]}},
        {"line": 3, "external_id": "M0002", "errors": {"nir": ["invalid_nir"]}},
    ]
    assert sorted(Member.objects.values_list("external_id", flat=True)) == ["M0001", "M0003"]


def test_a_rejects_file_from_an_earlier_run_is_replaced(tmp_path):
    path = tmp_path / "members.jsonl"
    (tmp_path / "members.jsonl.rejects.jsonl").write_text('{"line": 9}\n')
    path.write_bytes(jsonl(member_line(1)))
    assert run_import(path)[0] == 0
    assert (tmp_path / "members.jsonl.rejects.jsonl").read_text() == ""


def test_a_missing_file_exits_2(tmp_path):
    code, _out, err = run_import(tmp_path / "absent.jsonl")
    assert code == 2
    assert "cannot be read" in err
    assert not FeedRun.objects.exists()


def test_an_unreadable_file_exits_2(tmp_path, monkeypatch):
    path = tmp_path / "members.jsonl"
    path.write_bytes(jsonl(member_line(1)))
    real_open = type(path).open

    def refuse(self, mode="r", *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(type(path), "open", refuse)
    code, _out, err = run_import(path)
    assert code == 2
    assert "Permission denied" in err
    assert not Member.objects.exists()


def test_a_directory_exits_2(tmp_path):
    assert run_import(tmp_path)[0] == 2


def test_an_unknown_feed_is_refused(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("import", "nonsense", str(tmp_path / "x.jsonl"))


def test_a_progress_bar_is_shown_on_a_terminal(tmp_path, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    path = tmp_path / "members.jsonl"
    path.write_bytes(jsonl(member_line(1), member_line(2)))
    assert run_import(path)[0] == 0
    shown = terminal.getvalue()
    assert "members" in shown
    assert "100%" in shown


def test_a_rejects_file_that_cannot_be_written_exits_2_before_anything_is_loaded(tmp_path):
    path = tmp_path / "members.jsonl"
    path.write_bytes(jsonl(member_line(1)))
    (tmp_path / "members.jsonl.rejects.jsonl").mkdir()  # a directory where the file should go
    code, _out, err = run_import(path)
    assert code == 2
    assert "cannot be written" in err
    assert not Member.objects.exists()


def test_worker_processes_give_the_same_result_as_one_process(tmp_path):
    path = tmp_path / "members.jsonl"
    lines = [member_line(n) for n in range(1, 901)]  # two chunks of lines for the workers
    lines[10] = member_line(11, nir="123")
    lines[700] = "not json"
    path.write_bytes(jsonl(*lines))
    code, out, _err = run_import(path, "--workers", "2", "--batch-size", "300")
    assert code == 1
    assert "898 created, 0 updated, 0 unchanged, 2 rejected" in out
    rejects = (tmp_path / "members.jsonl.rejects.jsonl").read_text().splitlines()
    assert [json.loads(r)["line"] for r in rejects] == [11, 701]
    assert Member.objects.count() == 898
