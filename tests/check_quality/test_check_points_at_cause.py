"""`formflow check` points at the cause: one problem per syntax error, typos with suggestions, no cascades.

Each case breaks a private copy of the shipped configuration (the idiom of
tests/packs/test_broken_packs.py) and reads what a configurator would read.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from formflow.packs import load_packs
from formflow.packs.problems import ERROR, WARNING, load_yaml

PACK = "meizhou-meijiang"
MATTER = "public-rental-housing"
WORKFLOW = f"workflows/{PACK}/{MATTER}.yaml"
FORM = f"schemas/{PACK}/{MATTER}/form.schema.json"
MATERIALS = f"schemas/{PACK}/{MATTER}/materials.yaml"
RULES = f"schemas/{PACK}/{MATTER}/rules.yaml"
TABLE = f"schemas/{PACK}/{MATTER}/tables/acceptance.yaml"
PARAMETERS = f"seeds/{PACK}/parameters.yaml"
OFFICES = f"seeds/{PACK}/offices.yaml"
DEMO = f"seeds/{PACK}/demo.yaml"
COMMON = "schemas/common/types.json"
CONSULTATION = f"workflows/{PACK}/consultation.yaml"
MESSAGES = f"schemas/{PACK}/{MATTER}/messages.yaml"
ALLOCATION = f"schemas/{PACK}/{MATTER}/allocation.yaml"
MANIFEST = f"schemas/{PACK}/pack.yaml"


def read(root: Path, rel: str):
    text = (root / rel).read_text(encoding="utf-8")
    return json.loads(text) if rel.endswith(".json") else load_yaml(text)


def write(root: Path, rel: str, content) -> None:
    if rel.endswith(".json"):
        text = json.dumps(content, ensure_ascii=False, indent=2)
    else:
        text = yaml.safe_dump(content, allow_unicode=True, sort_keys=False)
    (root / rel).write_text(text, encoding="utf-8")


def edit(root: Path, rel: str, change) -> None:
    content = read(root, rel)
    change(content)
    write(root, rel, content)


def check(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "formflow.cli", "check", str(root)], capture_output=True, text=True)


def listed(problems) -> str:
    return "\n".join(map(str, problems))


# -- a file that does not parse is one problem, first, with line and column ------------------------------------

def break_yaml_line_3(root: Path, rel: str) -> tuple[int, int]:
    """Break line 3 of a YAML file with a stray mapping; returns the (line, column) YAML reports."""
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    lines[2] = "oops: a: b"
    (root / rel).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 3, 8


@pytest.mark.parametrize("rel", [PARAMETERS, WORKFLOW, MATERIALS, RULES, TABLE, OFFICES, DEMO, MESSAGES, ALLOCATION,
                                 MANIFEST, f"workflows/{PACK}/flat-follow-up.yaml"])
def test_a_yaml_syntax_error_is_one_problem_with_line_and_column(config_copy, rel):
    line, column = break_yaml_line_3(config_copy, rel)
    packset = load_packs(config_copy)
    assert len(packset.problems) == 1, listed(packset.problems)
    (problem,) = packset.problems
    assert problem.file == rel and problem.parse and problem.severity == ERROR
    assert (problem.line, problem.column) == (line, column)
    assert f"YAML 语法错误（第 {line} 行第 {column} 列）" in problem.message
    assert str(problem).startswith(f"{rel}:{line}:{column}: ")


@pytest.mark.parametrize("rel", [FORM, COMMON])
def test_a_json_syntax_error_is_one_problem_with_line_and_column(config_copy, rel):
    text = (config_copy / rel).read_text(encoding="utf-8")
    (config_copy / rel).write_text(text.replace("\n", "\n,", 1), encoding="utf-8")  # a comma opening line 2
    packset = load_packs(config_copy)
    assert len(packset.problems) == 1, listed(packset.problems)
    (problem,) = packset.problems
    assert problem.file == rel and problem.parse and (problem.line, problem.column) == (2, 1)
    assert f"JSON 语法错误（第 {problem.line} 行第 {problem.column} 列）" in problem.message


def test_an_empty_file_is_one_problem_not_a_missing_file(config_copy):
    (config_copy / PARAMETERS).write_text("# nothing yet\n", encoding="utf-8")
    problems = load_packs(config_copy).problems
    assert [(p.file, p.parse) for p in problems] == [(PARAMETERS, True)], listed(problems)
    assert "文件为空" in problems[0].message


def test_the_syntax_error_is_printed_first_then_errors(config_copy):
    break_yaml_line_3(config_copy, PARAMETERS)
    edit(config_copy, WORKFLOW, lambda wf: wf["stages"]["street_review"].update(table="no-such-table"))
    out = check(config_copy)
    assert out.returncode == 2
    lines = [line.strip() for line in out.stderr.splitlines() if line.startswith("  ")]
    assert lines[0].startswith(f"{PARAMETERS}:3:8: YAML 语法错误"), out.stderr
    assert lines[1].startswith(f"{WORKFLOW}:/stages/street_review/table"), out.stderr
    assert not any("参数" in line and "不存在" in line for line in lines), out.stderr


# -- a mistyped target: one problem with the suggestion, no unreachable stages -----------------------------------

def test_a_mistyped_target_is_one_problem_with_the_suggestion(config_copy):
    edit(config_copy, WORKFLOW,
         lambda wf: wf["stages"]["community_acceptance"]["actions"]["accept"].update(to="street_reveiw"))
    problems = load_packs(config_copy).problems
    assert len(problems) == 1, listed(problems)
    (problem,) = problems
    assert (problem.file, problem.pointer) == (WORKFLOW, "/stages/community_acceptance/actions/accept/to")
    assert "'street_reveiw'" in problem.message and "是否应为 'street_review'" in problem.message
    assert "没有任何动作能到达" not in listed(problems)


def test_a_really_unreachable_stage_is_still_reported(config_copy):
    def change(wf):
        wf["stages"]["community_acceptance"]["actions"]["accept"]["to"] = "zzz_nowhere"
    edit(config_copy, WORKFLOW, change)
    problems = load_packs(config_copy).problems
    assert any(p.pointer.endswith("/accept/to") and "'zzz_nowhere'" in p.message and "是否应为" not in p.message
               for p in problems), listed(problems)
    assert any(p.pointer == "/stages/street_review" and "没有任何动作能到达" in p.message for p in problems)


# -- did you mean … for unknown names ---------------------------------------------------------------------------

def _table_typo(root):
    edit(root, WORKFLOW, lambda wf: wf["stages"]["street_review"].update(table="acceptence"))
    return WORKFLOW, "/stages/street_review/table", "acceptance"


def _material_typo(root):
    kind = None

    def remember(m):
        nonlocal kind
        first = m["categories"][next(iter(m["categories"]))]["required"][0]
        kind = first if isinstance(first, str) else first["kind"]
        m["categories"][next(iter(m["categories"]))]["required"][0] = kind + "s"
    edit(root, MATERIALS, remember)
    return MATERIALS, "/required/0", str(kind)


def _category_typo(root):
    cat = None

    def change(r):
        nonlocal cat
        cat = next(iter(r["eligibility"]))
        r["eligibility"][cat[:-1] + "x" + cat[-1]] = r["eligibility"].pop(cat)
    edit(root, RULES, change)
    return RULES, "/eligibility/", str(cat)


def _parameter_typo(root):
    edit(root, RULES, lambda r: r["computed"].update(
        {"typo": {"title": "t", "logic": {"*": [2, {"var": "params.subsistance_line"}]}}}))
    return RULES, "/computed/typo/logic", "subsistence_line"


def _field_typo(root):
    edit(root, RULES, lambda r: r["computed"].update(
        {"typo": {"title": "t", "logic": {"var": "data.members.applicant.marital_staus"}}}))
    return RULES, "/computed/typo/logic/var", "members.applicant.marital_status"


def _role_typo(root):
    edit(root, WORKFLOW, lambda wf: wf["stages"]["street_review"]["owner"].update(role="street_reviewr"))
    return WORKFLOW, "/stages/street_review/owner/role", "street_reviewer"


def _demo_role_typo(root):
    edit(root, DEMO, lambda d: next(a for a in d["accounts"] if a["username"] == "mj-street")["roles"][0].update(
        role="street_reviewr"))
    return DEMO, "/role", "street_reviewer"


def _notice_typo(root):
    edit(root, WORKFLOW, lambda wf: wf["stages"]["community_acceptance"]["actions"]["accept"].update(
        notice="acceptanse"))
    return WORKFLOW, "/actions/accept/notice", "acceptance"


def _action_typo(root):
    edit(root, WORKFLOW, lambda wf: wf["commitment"].update(starts_on="acept"))
    return WORKFLOW, "/commitment/starts_on", "accept"


def _start_typo(root):
    edit(root, WORKFLOW, lambda wf: wf.update(start="community_aceptance"))
    return WORKFLOW, "/start", "community_acceptance"


TYPOS = [_table_typo, _material_typo, _category_typo, _parameter_typo, _field_typo, _role_typo, _demo_role_typo,
         _notice_typo, _action_typo, _start_typo]


@pytest.mark.parametrize("typo", TYPOS, ids=lambda t: t.__name__.strip("_"))
def test_an_unknown_name_suggests_the_known_one(config_copy, typo):
    file, pointer, meant = typo(config_copy)
    problems = load_packs(config_copy).problems
    found = [p for p in problems if p.file == file and pointer in p.pointer and f"是否应为 '{meant}'" in p.message]
    assert found, listed(problems)
    assert "没有任何动作能到达" not in listed(problems)


# -- `when` values against the field's enum ---------------------------------------------------------------------

def test_a_material_when_outside_the_enum_is_a_problem(config_copy):
    text = (config_copy / MATERIALS).read_text(encoding="utf-8")
    (config_copy / MATERIALS).write_text(text.replace('"married"]}}', '"maried"]}}', 1), encoding="utf-8")
    problems = load_packs(config_copy).problems
    assert len(problems) == 1, listed(problems)
    (problem,) = problems
    assert problem.file == MATERIALS and problem.pointer.endswith("/when/==/1")
    assert '"maried" 不是字段 \'data.members.applicant.marital_status\' 可取的值' in problem.message
    assert '"unmarried"、"married"、"divorced"、"widowed"' in problem.message
    assert "是否应为 'married'" in problem.message


def test_a_guard_in_list_outside_the_enum_is_a_problem(config_copy):
    def change(wf):
        for stage in wf["stages"].values():
            for action in (stage.get("actions") or {}).values():
                rule = (action.get("guard") or {}).get("rule")
                if rule and "in" in rule:
                    rule["in"][1] = [*rule["in"][1][:-1], "teleport"]
                    return
    edit(config_copy, CONSULTATION, change)
    problems = load_packs(config_copy).problems
    assert len(problems) == 1, listed(problems)
    assert problems[0].file == CONSULTATION and "/guard/rule/in/1/" in problems[0].pointer
    assert '"teleport"' in problems[0].message


def test_a_rule_comparing_with_an_enum_value_passes_and_a_boolean_with_a_word_does_not(config_copy):
    def change(r):
        r["computed"]["good"] = {"title": "g", "logic": {"==": [{"var": "data.members.applicant.marital_status"},
                                                                "divorced"]}}
        r["computed"]["bad"] = {"title": "b", "logic": {"!=": ["widow", {"var": "data.members.applicant"
                                                                                    ".marital_status"}]}}
    edit(config_copy, RULES, change)
    problems = load_packs(config_copy).problems
    assert [(p.file, p.pointer) for p in problems] == [(RULES, "/computed/bad/logic/!=/0")], listed(problems)


# -- an owner level no office has -------------------------------------------------------------------------------

def test_an_owner_level_without_offices_is_a_problem(config_copy):
    edit(config_copy, WORKFLOW, lambda wf: wf["stages"]["leader_approval"]["owner"].update(level="province"))
    problems = load_packs(config_copy).problems
    assert len(problems) == 1, listed(problems)
    (problem,) = problems
    assert (problem.file, problem.pointer) == (WORKFLOW, "/stages/leader_approval/owner/level")
    assert "'province'" in problem.message and "没有该层级的机构" in problem.message
    assert "city、community、district、street" in problem.message


# -- a role nobody holds is a warning ---------------------------------------------------------------------------

def test_a_role_no_account_holds_is_a_warning_and_check_still_passes(config_copy):
    edit(config_copy, WORKFLOW, lambda wf: wf["roles"].update({"night_clerk": {"title": "夜班受理人员"}}))
    packset = load_packs(config_copy)
    assert packset.problems == [], listed(packset.problems)
    assert [(w.file, w.pointer, w.severity) for w in packset.warnings] == [(WORKFLOW, "/roles/night_clerk", WARNING)]
    out = check(config_copy)
    assert out.returncode == 0, out.stderr
    assert f"OK {PACK}" in out.stdout
    assert f"警告：{WORKFLOW}:/roles/night_clerk: 没有任何演示账号持有角色 'night_clerk'" in out.stderr


def test_warnings_print_after_errors_and_errors_decide_the_exit_code(config_copy):
    edit(config_copy, WORKFLOW, lambda wf: (wf["roles"].update({"night_clerk": {"title": "夜班"}}),
                                            wf["stages"]["street_review"].update(table="acceptence")))
    out = check(config_copy)
    assert out.returncode == 2
    lines = [line.strip() for line in out.stderr.splitlines() if line.startswith("  ")]
    assert lines[0].startswith(f"{WORKFLOW}:/stages/street_review/table"), out.stderr
    assert lines[-1].startswith(f"警告：{WORKFLOW}:/roles/night_clerk"), out.stderr


def test_the_shipped_packs_have_no_problems_and_no_warnings():
    packset = load_packs(Path(__file__).resolve().parents[2])
    assert packset.problems == [] and packset.warnings == [], listed(packset.problems + packset.warnings)


def test_a_list_item_compared_outside_its_enum_is_a_problem(config_copy):
    def change(r):
        r["computed"]["has_wife"] = {"title": "w", "logic": {"some": [
            {"var": "data.members.co_applicants"}, {"==": [{"var": "relation"}, "wife"]}]}}
        r["computed"]["has_child"] = {"title": "c", "logic": {"some": [
            {"var": "data.members.co_applicants"}, {"==": [{"var": "relation"}, "child"]}]}}
    edit(config_copy, RULES, change)
    problems = load_packs(config_copy).problems
    assert [(p.file, p.pointer) for p in problems] == [(RULES, "/computed/has_wife/logic/some/1/==/1")], \
        listed(problems)
    assert '"spouse"、"child"、"parent"、"other"' in problems[0].message


def test_a_role_granted_in_the_database_is_not_warned_about(config_copy, sqlite_platform):
    import os

    from formflow.db.models import RoleAssignment

    edit(config_copy, WORKFLOW, lambda wf: wf["roles"].update({"night_clerk": {"title": "夜班受理人员"}}))
    env = {**os.environ, "FORMFLOW_DATABASE_URL": sqlite_platform.url}
    cmd = [sys.executable, "-m", "formflow.cli", "check", str(config_copy)]
    before = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert before.returncode == 0 and "'night_clerk'" in before.stderr, before.stderr
    with sqlite_platform.sessions.begin() as session:
        account = sqlite_platform.account("mj-community")
        session.add(RoleAssignment(account_id=account.id, role="night_clerk", office_id="441402001001", pack=PACK))
    after = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert after.returncode == 0, after.stderr
    assert "night_clerk" not in after.stderr
