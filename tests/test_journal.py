"""The crash journal (catoiac.journal) and the ownership it proves, without Pulumi: the engine
against the emulator over HTTP, with a real journal folder.

"The next up" of a killed one is modelled as what the provider does then: ``create`` again for
the same owner, because the state never recorded the first create.
"""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta

import pytest
from emu_helpers import ACCOUNT, KEY
from policy_support import IFW_SECTIONS, Reader
from policy_support import fixture as policy_fixture
from sites_support import ADD_SITE, Api, site_input

from catoiac import lifeline
from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig
from catoiac.journal import Journal
from catoiac.ratelimit import RateLimitTable
from catoiac.resources import Engine
from catoiac.resources.engine import OWNER_KEY, OwnershipError
from catoiac.resources.policy import PolicyApplyError
from catoiac.resources.policy_plan import PlanError
from catoiac.resources.specs import SPECS
from catoiac.session import Session

OWNER = "branch/prod/SocketSite::lisbon"
OTHER_STACK = "branch/staging/SocketSite::lisbon"
SITE = {
    "name": "Lisbon",
    "native_range": "10.40.0.0/24",
    "location": {"country_code": "PT", "timezone": "Europe/Lisbon"},
}


# -- the journal itself ---------------------------------------------------------------------------
def test_entries_are_private_files_of_names_and_ids_written_whole(tmp_path):
    journal = Journal(tmp_path / "j")
    claim = journal.claim("https://api.catonetworks.com/api/v1/graphql2", ACCOUNT, OWNER)
    claim.write("intent", "SocketSite", key={"name": "Lisbon"})
    claim.write("created", "SocketSite", id="100007")
    entry = claim.read()
    assert entry["state"] == "created" and entry["id"] == "100007"
    assert entry["key"] == {"name": "Lisbon"} and entry["intent_time"]  # kept from the intent
    assert stat.S_IMODE(claim.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(claim.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(claim.path.parent.parent.stat().st_mode) == 0o700
    assert [p.name for p in claim.path.parent.iterdir()] == [claim.path.name]  # no temporary left
    # Another owner's entry names the object; the owner itself is left out when asked "besides".
    endpoint = claim.endpoint
    assert journal.owner_of(endpoint, ACCOUNT, "100007") == OWNER
    assert journal.owner_of(endpoint, ACCOUNT, "100007", besides=OWNER) is None
    assert journal.owner_of("http://127.0.0.1:9/api/v1/graphql2", ACCOUNT, "100007") is None
    # A write that died before its rename is never read.
    (claim.path.parent / ".tmp-abc.json").write_text(json.dumps({**entry, "id": "666"}))
    assert journal.owner_of(endpoint, ACCOUNT, "666") is None
    claim.forget()
    assert claim.read() is None and journal.owner_of(endpoint, ACCOUNT, "100007") is None


def test_the_journal_is_found_in_stack_config_then_the_environment_then_xdg_state(tmp_path, monkeypatch):
    monkeypatch.setenv("CATOIAC_JOURNAL_DIR", str(tmp_path / "env"))
    assert Journal.locate(str(tmp_path / "config")).root == tmp_path / "config"
    assert Journal.locate(None).root == tmp_path / "env"
    monkeypatch.delenv("CATOIAC_JOURNAL_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert Journal.locate(None).root == tmp_path / "state" / "catoiac" / "journal"


# -- adoption through the engine ------------------------------------------------------------------
@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(policy_fixture(), rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
def ctl(emu):
    with EmulatorControl(emu.base_url) as c:
        yield c


@pytest.fixture
def journal(tmp_path):
    return Journal(tmp_path / "journal")


def new_session(emu) -> Session:
    cfg = ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url, timeout=10)
    return Session(CatoClient(cfg, limits=RateLimitTable.cato_defaults(scale=0.001)))


def engine_of(emu, spec: str, journal: Journal | None = None) -> Engine:
    """The engine of one provider process (a fresh session: the next up is a new process)."""
    session = new_session(emu)
    return Engine(SPECS[spec], lambda: session, journal)


def create(emu, journal, spec: str, props: dict, owner: str) -> tuple[str, dict]:
    engine = engine_of(emu, spec, journal)
    inputs, failures = engine.check({}, {**props, OWNER_KEY: owner})
    assert not failures, failures
    return engine.create(inputs)


def writes(stats: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in stats.items() if k.startswith(("add", "update", "create", "remove", "delete"))}


def site_props(name="Porto", subnet="10.61.0.0/24") -> dict:
    return {
        "name": name,
        "native_range": subnet,
        "connection_type": "SOCKET_X1600",
        "location": {"country_code": "PT", "timezone": "Europe/Lisbon"},
    }


# Each type: its props on site `sid`, and a change the adopting create must apply (in place).
CHILDREN = {
    "NetworkRange": (
        lambda sid: {"site_id": sid, "name": "Cameras", "subnet": "10.61.9.0/24", "range_type": "Direct"},
        {"internet_only": True},
        "updateNetworkRange",
    ),
    "StaticHost": (
        lambda sid: {"site_id": sid, "name": "printer", "ip": "10.61.0.10"},
        {"ip": "10.61.0.11"},
        "updateStaticHost",
    ),
    "SocketInterface": (
        lambda sid: {
            "site_id": sid,
            "interface_id": "INT_5",
            "dest_type": "LAN",
            "subnet": "10.65.0.0/24",
            "local_ip": "10.65.0.1",
        },
        {"name": "Servers"},
        "updateSocketInterface",
    ),  # fmt: skip
    "BgpPeer": (
        lambda sid: {
            "site_id": sid,
            "name": "core",
            "peer_ip": "10.61.0.2",
            "peer_asn": 65001,
            "cato_asn": 65000,
            "default_action": "ACCEPT",
        },
        {"metric": 7},
        "updateBgpPeer",
    ),  # fmt: skip
    "Group": (
        lambda sid: {"name": "Porto things", "members": [{"type": "SITE", "id": sid}]},
        {"description": "adopted"},
        "updateGroup",
    ),  # fmt: skip
}


def test_a_site_created_but_never_recorded_is_adopted_and_updated_to_the_program(emu, ctl, journal):
    first, _ = create(emu, journal, "SocketSite", site_props(), OWNER)
    ctl.reset_stats()
    again, outs = create(emu, journal, "SocketSite", {**site_props(), "description": "now described"}, OWNER)
    assert again == first
    assert writes(ctl.stats()) == {"updateSiteGeneralDetails": 1}  # no second addSocketSite
    assert outs["description"] == "now described"
    engine = engine_of(emu, "SocketSite")
    _, _, live = engine.read(first, outs)
    assert live["description"] == "now described"


@pytest.mark.parametrize("spec", list(CHILDREN))
def test_every_type_created_but_never_recorded_is_adopted_and_reconciled_not_duplicated(
    emu, ctl, journal, spec
):
    sid, _ = create(emu, journal, "SocketSite", site_props(), "p/s/SocketSite::porto")
    props, change, update_op = CHILDREN[spec]
    owner = f"p/s/{spec}::it"
    first, _ = create(emu, journal, spec, props(sid), owner)
    ctl.reset_stats()
    again, outs = create(emu, journal, spec, {**props(sid), **change}, owner)
    assert again == first
    assert writes(ctl.stats()) == {update_op: 1}, ctl.stats()
    engine = engine_of(emu, spec)
    _, _, live = engine.read(first, outs)
    assert all(live[k] == v for k, v in change.items()), live
    # Nothing to change: adopted with no write at all.
    ctl.reset_stats()
    assert create(emu, journal, spec, {**props(sid), **change}, owner)[0] == first
    assert writes(ctl.stats()) == {}


def test_a_site_of_another_stack_is_refused_naming_that_stack(emu, ctl, journal):
    create(emu, journal, "SocketSite", SITE, OTHER_STACK)
    with pytest.raises(OwnershipError) as err:
        create(emu, journal, "SocketSite", SITE, OWNER)
    message = str(err.value)
    assert f"belongs to {OTHER_STACK}" in message and "import_=" in message and "\n" not in message


def test_a_site_made_in_the_console_is_refused_even_right_after_our_own_interrupted_attempt(
    emu, ctl, journal
):
    """Our create died before its reply (only the intent is written), and an admin made a site of
    that name in the UI meanwhile: the audit trail says it is not ours."""
    claim = journal.claim(emu.url, ACCOUNT, OWNER)
    claim.write("intent", "SocketSite", key={"name": "Lisbon"})
    ctl.as_admin(
        ACCOUNT, "alice@example.com", ADD_SITE, {"a": ACCOUNT, "i": site_input("Lisbon", "10.40.0.0/24")}
    )
    with pytest.raises(OwnershipError) as err:
        create(emu, journal, "SocketSite", SITE, OWNER)
    assert "someone else made it" in str(err.value)
    assert ctl.stats().get("auditFeed") == 1
    # Cato refused the create: the intent is dropped, and a retry does not ask the audit trail again.
    assert claim.read() is None
    with pytest.raises(OwnershipError):
        create(emu, journal, "SocketSite", SITE, OWNER)
    assert ctl.stats().get("auditFeed") == 1


def test_a_create_whose_reply_never_came_is_adopted_when_the_audit_trail_shows_an_api_key_made_it(
    emu, ctl, journal
):
    claim = journal.claim(emu.url, ACCOUNT, OWNER)
    claim.write("intent", "SocketSite", key={"name": "Lisbon"})
    with Api(emu.url) as api:  # the write our dying provider had sent
        made = api.ok(ADD_SITE, a=ACCOUNT, i=site_input("Lisbon", "10.40.0.0/24"))["site"]["addSocketSite"][
            "siteId"
        ]
    ctl.reset_stats()
    adopted, _ = create(emu, journal, "SocketSite", SITE, OWNER)
    assert adopted == made
    assert "addSocketSite" not in ctl.stats()
    assert claim.read()["state"] == "created" and claim.read()["id"] == made


def test_an_old_intent_is_no_proof(emu, ctl, journal):
    """An intent from long before the object was made does not make a later object ours."""
    claim = journal.claim(emu.url, ACCOUNT, OWNER)
    claim.write("intent", "SocketSite", key={"name": "Lisbon"})
    entry = claim.read()
    old = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    claim.path.write_text(json.dumps({**entry, "intent_time": old}))
    with Api(emu.url) as api:
        api.ok(ADD_SITE, a=ACCOUNT, i=site_input("Lisbon", "10.40.0.0/24"))
    with pytest.raises(OwnershipError):
        create(emu, journal, "SocketSite", SITE, OWNER)


def test_an_entry_whose_id_now_names_another_object_proves_nothing(emu, ctl, journal):
    """An emulator started afresh hands out the same ids again: the journaled key must match."""
    claim = journal.claim(emu.url, ACCOUNT, OWNER)
    claim.write("intent", "SocketSite", key={"name": "Lisbon"})
    claim.write("created", "SocketSite", id="100001")  # the fixture's HQ in this emulator
    ctl.reset_stats()
    sid, _ = create(emu, journal, "SocketSite", SITE, OWNER)
    assert sid != "100001" and ctl.stats()["addSocketSite"] == 1
    assert "updateSiteGeneralDetails" not in ctl.stats()


def test_a_deleted_resource_forgets_its_entry_and_a_vanished_object_is_created_anew(emu, ctl, journal):
    sid, outs = create(emu, journal, "SocketSite", SITE, OWNER)
    claim = journal.claim(emu.url, ACCOUNT, OWNER)
    engine = engine_of(emu, "SocketSite", journal)
    engine.delete(sid, {**outs, OWNER_KEY: OWNER})
    assert claim.read() is None
    # An entry whose object is gone (removed in the UI) proves nothing: a new one is made.
    again, _ = create(emu, journal, "SocketSite", SITE, OWNER)
    engine.delete(again, {**outs, "resource_id": again})  # old outputs without the owner: entry kept
    assert claim.read()["id"] == again
    ctl.reset_stats()
    third, _ = create(emu, journal, "SocketSite", SITE, OWNER)
    assert third != again and ctl.stats().get("addSocketSite") == 1


# -- policies -------------------------------------------------------------------------------------
IFW_OWNER = "fw/prod/InternetFirewallPolicy::ifw"


@pytest.fixture
def api(emu):
    r = Reader(emu.url)
    yield r
    r.close()


def apply_policy(emu, journal, sections, owner=IFW_OWNER) -> tuple[str, dict]:
    return create(emu, journal, "InternetFirewallPolicy", {"sections": sections}, owner)


def test_sections_published_but_never_recorded_are_adopted_and_reconciled_in_one_publish(
    emu, ctl, api, journal
):
    rid, outs = apply_policy(emu, journal, IFW_SECTIONS)
    layout = api.layout()
    ctl.reset_stats()
    rid2, outs2 = apply_policy(emu, journal, IFW_SECTIONS)
    assert (rid2, outs2["section_ids"], outs2["rule_ids"]) == (rid, outs["section_ids"], outs["rule_ids"])
    assert writes(ctl.stats()) == {} and "createPolicyRevision" not in ctl.stats()  # nothing to do
    assert api.layout() == layout

    changed = [dict(IFW_SECTIONS[0], rules=IFW_SECTIONS[0]["rules"][:2]), IFW_SECTIONS[1]]
    ctl.reset_stats()
    _, outs3 = apply_policy(emu, journal, changed)
    assert ctl.stats()["publishPolicyRevision"] == 1 and ctl.stats()["removeRule"] == 1
    assert outs3["section_ids"] == outs["section_ids"]
    assert api.layout()[1:] == [("Corporate", ["Block social", "Allow office"]), ("Guest", ["Guest web"])]
    assert api.open_revisions() == []


def test_a_section_an_update_published_but_never_recorded_is_adopted_by_the_next_update(
    emu, ctl, api, journal
):
    rid, outs = apply_policy(emu, journal, IFW_SECTIONS)
    grown = [
        *IFW_SECTIONS,
        {"name": "Extra", "rules": [{"name": "Extra rule", "destination": {"fqdn": ["x.example"]}}]},
    ]
    engine = engine_of(emu, "InternetFirewallPolicy", journal)
    news, _ = engine.check({}, {"sections": grown, OWNER_KEY: IFW_OWNER})
    engine.update(rid, outs, news)
    layout = api.layout()
    # The state still holds the old outputs (the update's reply never reached it): update again.
    ctl.reset_stats()
    again = engine_of(emu, "InternetFirewallPolicy", journal).update(rid, outs, news)
    assert "createPolicyRevision" not in ctl.stats() and api.layout() == layout
    assert set(again["section_ids"]) == {"Corporate", "Guest", "Extra"}


def test_a_revision_is_discarded_not_published_once_the_engine_is_gone(emu, ctl, api, journal, monkeypatch):
    """The engine's address stops answering before the publish: the revision is discarded, and
    the section ids journaled for it prove nothing (they were never published)."""
    before = api.layout()
    gone = lifeline.Lifeline("127.0.0.1:1", role="test")  # nothing listens there: a dead engine
    monkeypatch.setattr(lifeline, "_LIFELINE", gone)
    with pytest.raises(PolicyApplyError) as err:
        apply_policy(emu, journal, IFW_SECTIONS)
    assert "engine" in str(err.value) and "discarded" in str(err.value)
    assert "publishPolicyRevision" not in ctl.stats() and ctl.stats()["discardPolicyRevision"] == 1
    assert api.layout() == before and api.open_revisions() == []
    monkeypatch.setattr(lifeline, "_LIFELINE", None)
    ctl.reset_stats()
    apply_policy(emu, journal, IFW_SECTIONS)
    assert ctl.stats()["publishPolicyRevision"] == 1
    assert [n for n, _ in api.layout()] == ["Security", "Corporate", "Guest"]


def test_a_section_of_another_stack_is_refused_naming_that_stack(emu, ctl, api, journal):
    apply_policy(emu, journal, IFW_SECTIONS, owner="fw/staging/InternetFirewallPolicy::ifw")
    with pytest.raises(PlanError) as err:
        apply_policy(emu, journal, [IFW_SECTIONS[1]])
    assert "belongs to fw/staging/InternetFirewallPolicy::ifw" in str(err.value)
    # One that no journal knows (someone else's, e.g. made in the UI) keeps the import hint.
    with pytest.raises(PlanError) as err:
        apply_policy(emu, journal, [{"name": "Security", "rules": []}])
    assert "import it" in str(err.value)


def test_journal_entries_hold_no_secret(emu, journal):
    sid, _ = create(emu, journal, "SocketSite", site_props(), "p/s/SocketSite::porto")
    props = CHILDREN["BgpPeer"][0](sid)
    create(emu, journal, "BgpPeer", {**props, "md5_auth_key": "md5-never-in-journal-7"}, "p/s/BgpPeer::core")
    texts = [p.read_text() for p in journal.root.rglob("*.json")]
    assert len(texts) == 2 and not any("md5-never-in-journal-7" in t or KEY in t for t in texts)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in journal.root.rglob("*.json"))
