"""`formflow check` renders every notice and message text against a sample application.

An undefined variable is a problem naming the template file and line (and the notices using it);
a missing template, a platform name used as a notice variable, and notice_vars on an action that
issues no notice are problems of the workflow file. The shipped packs pass.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from household import copy_config

from formflow.packs import load_packs

WORKFLOW = "workflows/meizhou-meijiang/public-rental-housing.yaml"
MESSAGES = "schemas/meizhou-meijiang/public-rental-housing/messages.yaml"
OVERRIDE = "renderers/meizhou-meijiang/documents/ineligible.html"
TEMPLATE = """{% extends "_notice.html" %}
{% block body %}
<p>{{ applicant.name }}，{{ reason }}</p>
<p>{{ applicant.nam }}</p>
{% if remedy_text %}<p>{{ remedy_text }}</p>{% endif %}
<p>{{ amounts.household_size.text }}{{ hint | default("") }}</p>
{% endblock %}
"""


def _edit_yaml(path: Path, change) -> None:
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(content)
    path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_shipped_packs_render_every_notice_without_undefined_variables(shipped_packs) -> None:
    assert shipped_packs.problems == []


def test_undefined_variables_are_reported_with_template_file_and_line(tmp_path: Path) -> None:
    root = copy_config(tmp_path)
    (root / OVERRIDE).parent.mkdir(parents=True)
    (root / OVERRIDE).write_text(TEMPLATE, encoding="utf-8")
    problems = [p for p in load_packs(root).problems if p.file == OVERRIDE]
    messages = sorted(p.message for p in problems)
    assert len(messages) == 2, messages
    line4, line5 = messages
    assert line4.startswith("第 4 行：模板使用了模板上下文中没有的变量") and "'nam'" in line4
    assert line5.startswith("第 5 行：") and "'remedy_text' is undefined" in line5
    # every notice using the template is named, with its workflow file
    assert "workflows/meizhou-meijiang/public-rental-housing.yaml 的文书 ineligible、ineligible-street" in line4
    assert "ineligible-district" in line4
    # the pack's own template is used for this pack only: Jiangxi's notices print with the shared one
    assert not [p for p in load_packs(root, ["jiangxi"]).problems]


def test_check_command_prints_file_and_line_and_fails(tmp_path: Path) -> None:
    root = copy_config(tmp_path)
    shared = root / "renderers" / "documents" / "acceptance.html"
    lines = shared.read_text(encoding="utf-8").splitlines()
    where = next(i for i, line in enumerate(lines) if "{% block body %}" in line) + 2  # 1-based, after it
    lines.insert(where - 1, "<p>{{ office_phone }}</p>")
    shared.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "formflow.cli", "check", str(root)], capture_output=True,
                          text=True, check=False)
    said = done.stdout + done.stderr
    assert done.returncode == 2, said
    assert f"renderers/documents/acceptance.html:/: 第 {where} 行" in said
    assert "'office_phone' is undefined" in said
    assert "workflows/jiangxi/public-rental-housing.yaml 的文书 acceptance" in said


def test_workflow_mistakes_about_notice_variables_are_reported(tmp_path: Path) -> None:
    root = copy_config(tmp_path)

    def change(workflow) -> None:
        workflow["notices"]["eligible"]["vars"]["reason"] = "固定理由"
        actions = workflow["stages"]["street_review"]["actions"]
        actions["reject"]["notice_vars"] = {"applicant": "某人"}
        actions["approve"]["notice_vars"] = {"hint": "无文书"}
        workflow["notices"]["acceptance"]["template"] = "documents/no-such.html"

    _edit_yaml(root / WORKFLOW, change)
    found = {(p.pointer, p.message) for p in load_packs(root).problems if p.file == WORKFLOW}
    assert ("/notices/eligible/vars/reason", "'reason' 由平台填写，不能作为文书变量") in found
    assert ("/stages/street_review/actions/reject/notice_vars/applicant",
            "'applicant' 由平台填写，不能作为文书变量") in found
    assert ("/stages/street_review/actions/approve/notice_vars", "该操作不出具文书，notice_vars 不起作用") in found
    assert any(pointer == "/notices/acceptance/template" and "'documents/no-such.html' 不存在" in message
               for pointer, message in found), found


def test_a_message_text_naming_a_missing_member_of_the_context_is_reported(tmp_path: Path) -> None:
    root = copy_config(tmp_path)

    def change(messages) -> None:
        messages["kinds"]["accepted"]["body"] = "{{ applicant.name }}{{ stage.offices }}{{ amounts.no_such }}"

    _edit_yaml(root / MESSAGES, change)
    found = sorted(p.message for p in load_packs(root).problems
                   if p.file == MESSAGES and p.pointer == "/kinds/accepted/body")
    assert len(found) == 2 and "'offices'" in found[1] and "'no_such'" in found[0], found


def test_a_template_that_does_not_parse_is_reported_at_its_line(tmp_path: Path) -> None:
    root = copy_config(tmp_path)
    (root / OVERRIDE).parent.mkdir(parents=True)
    (root / OVERRIDE).write_text('{% extends "_notice.html" %}\n{% block body %}\n<p>{% if %}</p>\n{% endblock %}\n',
                                 encoding="utf-8")
    problems = [p for p in load_packs(root).problems if p.file == OVERRIDE]
    assert problems and all(p.message.startswith("第 3 行：模板无法生成") for p in problems), problems
