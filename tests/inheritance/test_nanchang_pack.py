"""The shipped Nanchang pack: what it overrides, what it inherits from Jiangxi, and one office tree."""

from __future__ import annotations

from click.testing import CliRunner

from formflow.cli import main

JX, NC, MATTER = "jiangxi", "jiangxi-nanchang", "public-rental-housing"


def _params(pack) -> dict:
    return pack.parameters.content["parameters"]


def test_the_two_parameters_are_nanchangs_and_the_rest_jiangxis(shipped_packs):
    jx, nc = shipped_packs.packs[JX], shipped_packs.packs[NC]
    assert _params(nc)["subsistence_line"]["value"] == 1000
    assert _params(nc)["low_income_line"]["value"] == 1500
    assert _params(jx)["subsistence_line"]["value"] == 900  # the parent is untouched
    assert "示例" in _params(nc)["subsistence_line"]["note"]
    inherited = set(_params(jx)) - {"subsistence_line", "low_income_line"}
    assert inherited and all(_params(nc)[p] == _params(jx)[p] for p in inherited)
    assert list(_params(nc)) == list(_params(jx))  # same parameters, none lost


def test_the_material_requirement_is_overridden_by_id_and_its_other_fields_inherited(shipped_packs):
    jx = shipped_packs.packs[JX].matters[MATTER].materials.content
    nc = shipped_packs.packs[NC].matters[MATTER].materials.content
    mine, theirs = nc["kinds"]["housing_status_certificate"], jx["kinds"]["housing_status_certificate"]
    assert "南昌市" in mine["requirement"] and "南昌市" not in theirs["requirement"]
    assert {k: v for k, v in mine.items() if k not in ("requirement", "note")} == \
        {k: v for k, v in theirs.items() if k not in ("requirement", "note")}
    assert {k: v for k, v in nc["kinds"].items() if k != "housing_status_certificate"} == \
        {k: v for k, v in jx["kinds"].items() if k != "housing_status_certificate"}
    assert nc["categories"] == jx["categories"] and nc["upload_path"] == jx["upload_path"]


def test_the_acceptance_notice_text_is_nanchangs_and_the_workflow_jiangxis(shipped_packs):
    jx = shipped_packs.packs[JX].matters[MATTER].workflow.content
    nc = shipped_packs.packs[NC].matters[MATTER].workflow.content
    assert nc["notices"]["acceptance"]["title"] == "南昌市公租房申请受理通知书"
    assert nc["notices"]["acceptance"]["number"] == "洪公租受〔{year}〕{seq}号"
    assert nc["notices"]["acceptance"]["template"] == jx["notices"]["acceptance"]["template"]
    assert {k: v for k, v in nc["notices"].items() if k != "acceptance"} == \
        {k: v for k, v in jx["notices"].items() if k != "acceptance"}
    assert nc["stages"] == jx["stages"] and nc["roles"] == jx["roles"] and nc["start"] == jx["start"]
    documents = {d["id"]: d for d in shipped_packs.packs[NC].matters[MATTER].entry["documents"]}
    assert documents["acceptance"]["title"] == "南昌市公租房申请受理通知书"
    assert len(documents) == len(shipped_packs.packs[JX].matters[MATTER].entry["documents"])


def test_forms_rules_tables_messages_and_manifest_are_inherited(shipped_packs):
    jx, nc = shipped_packs.packs[JX], shipped_packs.packs[NC]
    assert nc.name == "南昌市" and nc.manifest.content["region_code"] == "360100"
    assert nc.manifest.content["privacy"] == jx.manifest.content["privacy"]
    assert nc.manifest.content["channels"] == jx.manifest.content["channels"]
    m_jx, m_nc = jx.matters[MATTER], nc.matters[MATTER]
    assert m_nc.pack == NC and m_nc.title == "南昌市公租房申请一件事" and m_nc.entry["guide"] == m_jx.entry["guide"]
    for attr in ("form", "rules", "messages"):
        assert getattr(m_nc, attr).content == getattr(m_jx, attr).content, attr
    assert {t: d.content for t, d in m_nc.tables.items()} == {t: d.content for t, d in m_jx.tables.items()}


def test_one_office_tree_and_no_duplicate_office(shipped_packs, sqlite_platform):
    from sqlalchemy import select

    from formflow.db.models import Office

    assert not shipped_packs.problems
    nc = shipped_packs.packs[NC]
    assert nc.offices is shipped_packs.packs[JX].offices  # the parent's file, not a copy
    with sqlite_platform.sessions() as s:
        packs = set(s.scalars(select(Office.pack).where(Office.path.startswith("/360000/"))))
        assert packs == {JX}  # loaded once, owned by the province's pack
        assert s.get(Office, "360100").region_code == nc.manifest.content["region_code"]


def test_check_passes_with_the_city_pack_and_explains_it_in_chinese(config_root):
    runner = CliRunner()
    result = runner.invoke(main, ["check", str(config_root / "schemas" / NC)])
    assert result.exit_code == 0, result.output
    assert "OK jiangxi-nanchang" in result.output and "重复" not in result.output

    result = runner.invoke(main, ["check", "--explain", NC, str(config_root)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "jiangxi-nanchang（南昌市）继承 jiangxi；机构：共用上级包的机构树，本包区域 360100"
    overridden = lines[lines.index("覆盖（13 项）："):lines.index("新增（0 项）：")]
    assert "  参数 parameters.yaml: subsistence_line, low_income_line" in overridden
    assert "  public-rental-housing / 材料 materials.yaml: kinds.housing_status_certificate, note" in overridden
    assert "  public-rental-housing / 流程（环节、通知书）: notices.acceptance, note" in overridden
    assert "  public-rental-housing / 事项（pack.yaml 的 matters）: title, note, documents.acceptance" in overridden
    inherited = lines[lines.index("新增（0 项）：") + 1:]
    assert inherited[0].startswith("继承（")
    assert any(line.startswith("  参数 parameters.yaml: housing_area_per_capita_limit,") for line in inherited)
    assert "  public-rental-housing / 表单 form.schema.json: （整个文件）" in inherited
    assert "  public-rental-housing / 审查量化表 tables/: acceptance, review" in inherited
    assert any("stages.acceptance" in line and "notices.eligible" in line for line in inherited)


def test_explain_of_a_pack_that_extends_nothing(config_root):
    result = CliRunner().invoke(main, ["check", "--explain", JX, str(config_root)])
    assert result.exit_code == 0 and "jiangxi（江西省）未继承其他配置包" in result.output
