"""GET /clients, GET /clients/{ref} (with the effective setup), GET and PUT
/clients/{ref}/strategy."""

from __future__ import annotations

import httpx

from contentgen.client.local import LocalClient
from contentgen.models import Client as ClientRecord


async def test_list_clients(http: httpx.AsyncClient, acme: ClientRecord,
                            globex: ClientRecord) -> None:  # fmt: skip
    response = await http.get("/clients")
    assert response.status_code == 200
    clients = response.json()["clients"]
    assert {c["name"] for c in clients} == {"acme", "globex"}
    assert set(clients[0]) == {"id", "name", "parent_id", "created_at"}


async def test_a_client_with_its_effective_setup(
    http: httpx.AsyncClient, local: LocalClient, acme: ClientRecord
) -> None:
    child = await local.add_client("acme-north", parent="acme")
    await local.set_strategy("acme", {"tone": {"voice": "warm"}})
    for ref in ("acme-north", str(child.id)):
        response = await http.get(f"/clients/{ref}")
        assert response.status_code == 200
        view = response.json()
        assert view["client"]["id"] == str(child.id)
        assert view["strategy"] is None  # none of its own
        assert view["setup"]["config"]["tone"]["voice"] == "warm"
        assert view["setup"]["origins"]["tone.voice"] == "acme"
    own = (await http.get("/clients/acme")).json()
    assert own["strategy"]["version"] == 1 and own["strategy"]["active"] is True


async def test_put_strategy_makes_a_new_version_and_get_reads_it(
    http: httpx.AsyncClient, acme: ClientRecord
) -> None:
    first = await http.put("/clients/acme/strategy", json={
        "config": {"content_guidelines": {"min_words": 300, "max_words": 600}},
    })  # fmt: skip
    assert first.status_code == 200 and first.json()["version"] == 1
    second = await http.put("/clients/acme/strategy", json={
        "name": "winter", "config": {"tone": {"voice": "calm"}},
    })  # fmt: skip
    assert second.json()["version"] == 2 and second.json()["name"] == "winter"
    same = await http.put("/clients/acme/strategy", json={
        "name": "winter", "config": {"tone": {"voice": "calm"}},
    })  # fmt: skip
    assert same.json()["version"] == 2  # unchanged config: no new version
    assert (await http.get("/clients/acme/strategy")).json()["version"] == 2
    v1 = await http.get("/clients/acme/strategy", params={"version": 1})
    assert v1.json()["config"]["content_guidelines"]["min_words"] == 300
    missing = await http.get("/clients/acme/strategy", params={"version": 9})
    assert missing.status_code == 404 and "no version 9" in missing.json()["error"]


async def test_put_strategy_names_the_bad_field(
    http: httpx.AsyncClient, acme: ClientRecord
) -> None:
    response = await http.put("/clients/acme/strategy", json={
        "config": {"content_guidelines": {"min_words": "lots"}},
    })  # fmt: skip
    assert response.status_code == 400
    data = response.json()
    assert data["error"] == "content_guidelines.min_words: expected an integer, got 'lots'"
    assert data["details"]["field"] == "content_guidelines.min_words"
    unknown = await http.put("/clients/acme/strategy", json={"config": {"colour": "red"}})
    assert unknown.status_code == 400 and "unknown field" in unknown.json()["error"]
    missing = await http.put("/clients/acme/strategy", json={})
    assert missing.status_code == 400 and missing.json()["details"]["field"] == "config"


async def test_unknown_clients_are_404(http: httpx.AsyncClient) -> None:
    for path in ("/clients/nobody", "/clients/nobody/strategy"):
        response = await http.get(path)
        assert response.status_code == 404
        assert response.json() == {"error": "Client not found"}
    put = await http.put("/clients/nobody/strategy", json={"config": {}})
    assert put.status_code == 404 and put.json() == {"error": "Client not found"}
