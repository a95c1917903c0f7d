"""Jiangxi's regions: the 11 prefecture-level cities and their 100 county-level regions (GB/T 2260),
with the offices the pack's rules generate for each county, and the region kinds of the offices format."""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from formflow.db.models import Office
from formflow.packs import load_packs
from formflow.packs.problems import load_yaml
from formflow.packs.regions import KINDS, expand_rules, kind_title, level_of, open_regions, walk

ROOT = Path(__file__).resolve().parents[2]
JX = "jiangxi"
OFFICES = ROOT / "seeds" / JX / "offices.yaml"
CITIES = {
    "360100": "南昌市", "360200": "景德镇市", "360300": "萍乡市", "360400": "九江市", "360500": "新余市",
    "360600": "鹰潭市", "360700": "赣州市", "360800": "吉安市", "360900": "宜春市", "361000": "抚州市",
    "361100": "上饶市",
}
COUNTY_KINDS = ("district", "county", "county_city")


def _file():
    return load_yaml(OFFICES.read_text(encoding="utf-8"))


def _counties(content):
    province = content["offices"][0]
    for city in province["children"]:
        if city["kind"] == "city":
            for county in city.get("children") or []:
                if county["kind"] in COUNTY_KINDS:
                    yield city, county


def _region(content, office_id):
    return next(n for n in walk(content["offices"]) if n["id"] == office_id)


def test_eleven_cities_and_every_county_with_valid_codes():
    content = _file()
    province = content["offices"][0]
    assert (province["id"], province["name"], province["kind"]) == ("360000", "江西省", "province")
    cities = {c["region_code"]: c["name"] for c in province["children"] if c["kind"] == "city"}
    assert cities == CITIES
    counties = list(_counties(content))
    assert len(counties) == 100
    kinds = [c["kind"] for _city, c in counties]
    assert (kinds.count("district"), kinds.count("county_city"), kinds.count("county")) == (27, 12, 61)
    codes = [c["region_code"] for _city, c in counties]
    assert len(set(codes)) == 100
    for city, county in counties:
        assert re.fullmatch(r"36\d{4}", county["region_code"]) and county["id"] == county["region_code"]
        assert county["region_code"][:4] == city["region_code"][:4] and county["region_code"] != city["region_code"]
    names = {c["name"] for _city, c in counties}
    # current codes: 红谷滩区 (2019), 广信区 (2019, was 上饶县), 龙南市 (2020, was 龙南县); 湾里区 abolished
    assert {"红谷滩区", "广信区", "龙南市", "共青城市", "庐山市"} <= names
    assert not {"湾里区", "上饶县", "龙南县"} & names
    assert dict((c["region_code"], c["name"]) for _city, c in counties)["360783"] == "龙南市"
    assert "source" in content and "GB/T 2260" in content["source"] and "2023" in content["note"]


def test_stable_ids_the_nanchang_pack_and_the_demo_accounts_use():
    content = _file()
    nanchang = next(c for c in content["offices"][0]["children"] if c["id"] == "360100")
    donghu = next(c for c in nanchang["children"] if c["id"] == "360102")
    assert (nanchang["region_code"], donghu["region_code"], donghu["name"]) == ("360100", "360102", "东湖区")
    assert {c["id"] for c in donghu["children"]} == {
        "360102001", "donghu-service-hall", "donghu-housing-bureau", "donghu-civil-affairs-bureau"}


def test_offices_generated_for_every_county_and_seeded_at_their_levels(sqlite_platform):
    content = _file()
    with sqlite_platform.sessions() as s:
        offices = {o.id: o for o in s.scalars(select(Office).where(Office.pack == JX))}
    for _city, county in _counties(content):
        code = county["region_code"]
        region = offices[code]
        assert (region.level, region.kind) == ("district", "district")
        if code == "360102":  # 东湖区 lists its own offices (generate: false)
            assert f"{code}-housing-bureau" not in offices
            continue
        housing, civil, hall, street = (offices[f"{code}-housing-bureau"], offices[f"{code}-civil-affairs-bureau"],
                                        offices[f"{code}-service-hall"], offices[f"{code}000"])
        assert housing.name == f"{county['name']}住房保障主管部门" and housing.kind == "bureau"
        assert civil.name == f"{county['name']}民政局"
        assert hall.kind == "centre" and "综合窗口" in hall.name
        for agency in (housing, civil, hall):
            assert (agency.level, agency.path, agency.parent_id) == ("district", region.path, code)
        assert (street.level, street.region_code, street.parent_id) == ("street", f"{code}000", code)
        assert street.path == f"{region.path}{code}000/"
    assert len(offices) == 1 + 1 + 11 + 100 + 99 * 4 + 4


def test_every_gb_t_2260_kind_has_its_level_and_chinese_title():
    expected = {
        "province": "省", "autonomous_region": "自治区", "municipality": "直辖市", "city": "地级市",
        "prefecture": "地区", "autonomous_prefecture": "自治州", "league": "盟", "district": "市辖区",
        "county": "县", "county_city": "县级市", "banner": "旗", "autonomous_county": "自治县",
        "forestry_district": "林区", "street": "街道", "town": "镇", "township": "乡", "community": "社区",
    }
    assert {k: kind_title(k) for k in KINDS} == expected  # outside a request: the authority's language
    assert {k: level_of(k) for k in ("banner", "town", "township", "autonomous_prefecture", "municipality")} == {
        "banner": "district", "town": "street", "township": "street", "autonomous_prefecture": "city",
        "municipality": "province"}
    meta = (ROOT / "schemas" / "meta" / "offices.schema.json").read_text(encoding="utf-8")
    for kind in KINDS:
        assert f'"{kind}"' in meta


def test_rules_expand_a_copy_and_respect_generate_false():
    content = {
        "rules": [{"for": ["banner", "town"], "offices": [{"id": "{code}-x", "name": "{region}办", "kind": "bureau"}]}],
        "offices": [{"id": "150000", "name": "内蒙古自治区", "kind": "autonomous_region", "region_code": "150000",
                     "children": [
                         {"id": "152921", "name": "阿拉善左旗", "kind": "banner", "region_code": "152921"},
                         {"id": "152922", "name": "阿拉善右旗", "kind": "banner", "region_code": "152922",
                          "generate": False}]}],
    }
    out = expand_rules(content)
    banners = out["offices"][0]["children"]
    assert banners[0]["children"] == [{"id": "152921-x", "name": "阿拉善左旗办", "kind": "bureau", "generated": True}]
    assert "children" not in banners[1]
    assert "children" not in content["offices"][0]["children"][0], "the file's own content is left as it was"


def test_online_switch_is_inherited_and_opens_the_regions_above():
    content = expand_rules(_file())
    live = open_regions(content)
    assert {"360000", "360100", "360102", "360102001"} <= live
    assert not {"360103", "360300", "360302", "360302000", "361100"} & live
    content = copy.deepcopy(content)
    _region(content, "360302")["online"] = True  # 萍乡市 安源区
    live = open_regions(content)
    assert {"360300", "360302", "360302000"} <= live and "360313" not in live


# --------------------------------------------------------------------------- formflow check


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "cfg"
    for folder in ("schemas", "workflows", "seeds", "renderers"):
        shutil.copytree(ROOT / folder, root / folder)
    return root


def _edit(root: Path, change) -> None:
    path = root / "seeds" / JX / "offices.yaml"
    content = load_yaml(path.read_text(encoding="utf-8"))
    change(content)
    path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize(("change", "pointer", "message"), [
    (lambda c: c["offices"][0]["children"][2].update(region_code="370200"),
     "/offices/0/children/2/region_code",
     "地级市 '景德镇市'：区划代码 370200 不在上级区划代码 360000 之下"),
    (lambda c: c["offices"][0]["children"][2]["children"][0].update(region_code="360302"),
     "/offices/0/children/2/children/0/region_code",
     "市辖区 '昌江区'：区划代码 360302 不在上级区划代码 360200 之下"),
    (lambda c: c["rules"][0]["offices"][0].update(name="{county}住房保障主管部门"),
     "/rules/0/offices/0/name",
     "未知的占位符 {county}：规则生成的机构只能使用 {region}（区划名称）、{code}（区划代码）和 {id}（区划标识）"),
    (lambda c: c["rules"][0].update({"for": ["county", "prefecture-city"]}), "/rules/0/for/1", None),
    (lambda c: c["offices"][0]["children"][2]["children"].append(
        {"id": "360299", "name": "某旗", "kind": "banner"}), "/offices/0/children/2/children/4", None),
])
def test_check_names_the_file_and_the_place(tmp_path, change, pointer, message):
    root = _copy(tmp_path)
    _edit(root, change)
    problems = [p for p in load_packs(root, only=[JX]).problems if p.file == f"seeds/{JX}/offices.yaml"]
    assert problems, "the broken file is reported"
    found = [p for p in problems if p.pointer == pointer]
    assert found, problems
    if message:
        assert found[0].message == message
