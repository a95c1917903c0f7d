"""The demo e-licence provider serves the packs' seeded records; the factory picks a provider by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from formflow.integrations import elicence
from formflow.integrations.elicence import (
    DemoElicenceProvider,
    ElicenceProvider,
    ElicenceUnavailable,
    provider_from_settings,
    register_provider,
)
from formflow.packs import load_packs


@pytest.fixture(scope="module")
def packset(config_root: Path):
    return load_packs(config_root)


def _seeded(packset) -> list[dict]:
    return [r for pack in packset.packs.values() if pack.elicences for r in pack.elicences.content["records"]]


def test_demo_provider_returns_every_seeded_record(packset) -> None:
    provider = DemoElicenceProvider.from_packset(packset)
    assert isinstance(provider, ElicenceProvider)
    records = _seeded(packset)
    assert records, "both packs seed demo e-licences"
    assert {"idcard", "hukou"} <= provider.sources
    for record in records:
        for source in ("idcard", "hukou"):
            assert provider.fetch(source, record["id_number"]) == record[source]


def test_lower_case_check_character_and_spaces_are_accepted(packset) -> None:
    provider = DemoElicenceProvider.from_packset(packset)
    record = next(r for r in _seeded(packset) if r["id_number"].endswith("X"))
    assert provider.fetch("idcard", " " + record["id_number"].lower()) == record["idcard"]


def test_unknown_person_or_source_gives_none(packset) -> None:
    provider = DemoElicenceProvider.from_packset(packset)
    number = _seeded(packset)[0]["id_number"]
    assert provider.fetch("idcard", "110101199003070000") is None
    assert provider.fetch("no-such-source", number) is None


def test_fetched_data_is_a_copy(packset) -> None:
    provider = DemoElicenceProvider.from_packset(packset)
    number = _seeded(packset)[0]["id_number"]
    provider.fetch("hukou", number)["members"].clear()
    assert provider.fetch("hukou", number)["members"]


def test_factory_defaults_to_demo_and_accepts_registered_providers(packset, monkeypatch) -> None:
    monkeypatch.delenv("FORMFLOW_ELICENCE_PROVIDER", raising=False)
    assert isinstance(provider_from_settings(packset), DemoElicenceProvider)

    class Down:
        def fetch(self, source: str, id_number: str) -> dict | None:
            raise ElicenceUnavailable()

    monkeypatch.setattr(elicence, "_FACTORIES", dict(elicence._FACTORIES))  # registration undone after the test
    register_provider("test-down", lambda _packset, _settings: Down())
    monkeypatch.setenv("FORMFLOW_ELICENCE_PROVIDER", "test-down")
    provider = provider_from_settings(packset)
    with pytest.raises(ElicenceUnavailable) as caught:
        provider.fetch("idcard", "360102198803150018")
    assert "重新获取" in caught.value.message

    monkeypatch.setenv("FORMFLOW_ELICENCE_PROVIDER", "nowhere")
    with pytest.raises(ValueError, match="nowhere"):
        provider_from_settings(packset)
