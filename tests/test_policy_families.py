"""Every family of Cato's PolicyMutations through the one policy engine, against the emulator over
HTTP (engine level; tests/test_example_policies.py runs them through the real pulumi CLI): one
revision and one publish per change, moves as moves, discard on failure, someone else's section
untouched, and a refresh that costs one policy query per family."""

from __future__ import annotations

import copy
import typing
from pathlib import Path

import pulumi_cato
import pytest
from emu_helpers import ACCOUNT, KEY
from families_support import FOREIGN_RULES, FOREIGN_SECTION, SECTIONS, fixture
from graphql import FieldNode, FragmentDefinitionNode, GraphQLInputObjectType, get_named_type, parse

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig
from catoiac.ratelimit import RateLimitTable
from catoiac.resources import Engine
from catoiac.resources.engine import ADOPT_KEY
from catoiac.resources.gql_schema import is_ref
from catoiac.resources.policy import KINDS, PolicyApplyError, discover
from catoiac.resources.policy_docs import documents_source
from catoiac.resources.policy_plan import PlanError
from catoiac.resources.specs import SPECS
from catoiac.resources.specs.policies import pulumi_classes_source, pulumi_types_source
from catoiac.schema import subset_schema
from catoiac.session import Session

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = pytest.mark.parametrize("field", list(KINDS))


# -- the families, as configuration -----------------------------------------------------------------
def test_every_family_of_the_sdl_policy_mutations_is_a_kind_with_a_spec_and_a_resource_class(real_schema):
    sdl = set(real_schema.get_type("PolicyMutations").fields)
    assert len(sdl) == 12 and set(KINDS) == sdl  # 12 of 12 covered
    for kind in KINDS.values():
        spec = SPECS[kind.spec]
        assert spec.policy is kind and spec.kind == kind.field
        cls = getattr(pulumi_cato, kind.spec)
        assert cls._spec == kind.spec and kind.field in (cls.__doc__ or "")
        # The rule inputs are Cato's rule input type, every field, in snake_case.
        t = real_schema.get_type(f"{kind.prefix}AddRuleDataInput")
        props = set(
            spec.schema["properties"]["sections"]["items"]["properties"]["rules"]["items"]["properties"]
        )
        assert props == {f.key for f in kind.rule.fields(kind.rule.type)} | ({kind.rule.sub_key} - {None})
        assert len(props) == len(t.fields) + (kind.sub is not None)


def test_every_generated_typed_dict_has_its_own_docstring():
    typed = [v for v in vars(pulumi_cato._policy_types).values() if typing.is_typeddict(v)]
    assert len(typed) > 80  # rules, their nested inputs and sections of 12 families
    assert [t.__name__ for t in typed if not t.__doc__ or t.__doc__ == dict.__doc__] == []
    assert "SocketLanAddRuleDataInput" in pulumi_cato.SocketLanRuleArgs.__doc__
    assert "firewall" in pulumi_cato.SocketLanRuleArgs.__annotations__


def test_generated_documents_and_pulumi_classes_are_up_to_date(real_schema):
    hint = "run scripts/gen-policy-types"
    assert (ROOT / "catoiac/graphql/policies.graphql").read_text() == documents_source(), hint
    assert (ROOT / "providers/pulumi_cato/_policy_types.py").read_text() == pulumi_types_source(
        real_schema
    ), hint
    assert (ROOT / "providers/pulumi_cato/policies.py").read_text() == pulumi_classes_source(), hint


def _input_paths(t: GraphQLInputObjectType, prefix: str = "") -> set[str]:
    out = set()
    for name, f in t.fields.items():
        named = get_named_type(f.type)
        out.add(prefix + name)
        if isinstance(named, GraphQLInputObjectType) and not is_ref(named):
            out |= _input_paths(named, f"{prefix}{name}.")
    return out


def _selected(selection_set, fragments, prefix="") -> set[str]:
    out = set()
    for s in selection_set.selections:
        if isinstance(s, FieldNode):
            out.add(prefix + s.name.value)
            if s.selection_set and {
                f.name.value for f in s.selection_set.selections if isinstance(f, FieldNode)
            } != {
                "id",
                "name",
            }:
                out |= _selected(s.selection_set, fragments, f"{prefix}{s.name.value}.")
        else:
            out |= _selected(fragments[s.name.value].selection_set, fragments, prefix)
    return out


@FAMILIES
def test_the_rule_fragment_reads_back_every_field_of_the_family_rule_input(field):
    kind = KINDS[field]
    doc = parse((ROOT / "catoiac/graphql/policies.graphql").read_text())
    fragments = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
    prefixes = [kind.prefix] + ([kind.sub.prefix] if kind.sub else [])
    for p in prefixes:
        got = _selected(fragments[f"{p}RuleFields"].selection_set, fragments)
        assert _input_paths(subset_schema().get_type(f"{p}AddRuleDataInput")) - got == set()
    if kind.sub:
        assert f"{kind.sub.field}.rule.name" in _selected(
            fragments[f"{kind.prefix}RuleFields"].selection_set, fragments
        )


# -- against the emulator ---------------------------------------------------------------------------
@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(fixture(), rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
def ctl(emu):
    with EmulatorControl(emu.base_url) as c:
        yield c


@pytest.fixture
def session(emu):
    cfg = ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url, timeout=10)
    s = Session(CatoClient(cfg, limits=RateLimitTable.cato_defaults(scale=0.001)))
    yield s
    s.client.close()


def engine(session, field: str) -> Engine:
    return Engine(SPECS[KINDS[field].spec], lambda: session)


def checked(e: Engine, sections) -> dict:
    inputs, failures = e.check({}, {"sections": sections})
    assert failures == []
    return inputs


def layout(client: CatoClient, field: str) -> list[tuple[str, list[str]]]:
    """Sections and rule names (socketLan rules: with their firewall rules' names), in order."""
    kind = KINDS[field]
    p = client.execute(kind.doc("Read"), {})["policy"][field]["policy"]
    out: dict[str, list] = {s["section"]["name"]: [] for s in p["sections"]}
    for r in p["rules"]:
        rule = r["rule"]
        subs = [x["rule"]["name"] for x in rule.get(kind.sub.field) or []] if kind.sub else []
        out[rule["section"]["name"]].append((rule["name"], subs) if subs else rule["name"])
    return list(out.items())


def open_revisions(client: CatoClient, field: str) -> list:
    return client.execute(KINDS[field].doc("Revisions"), {})["policy"][field]["revisions"]["revision"]


def names(sections, sub_key=None) -> list[tuple[str, list]]:
    def rule(r):
        subs = [x["name"] for x in r.get(sub_key) or []] if sub_key else []
        return (r["name"], subs) if subs else r["name"]

    return [(s["name"], [rule(r) for r in s["rules"]]) for s in sections]


def foreign(field: str) -> list[tuple[str, list]]:
    r = FOREIGN_RULES[field]
    sub = KINDS[field].sub
    subs = [x["name"] for x in r.get(sub.field) or []] if sub else []
    return [(FOREIGN_SECTION, [(r["name"], subs) if subs else r["name"]])]


@FAMILIES
def test_a_family_policy_is_created_moved_updated_and_destroyed_one_revision_and_one_publish_each(
    field, session, ctl
):
    kind, e, client = KINDS[field], engine(session, field), session.client
    sub_key = kind.rule.sub_key
    before = layout(client, field)
    assert before == foreign(field)

    ctl.reset_stats()
    rid, outs = e.create(checked(e, SECTIONS[field]))
    stats = ctl.stats()
    assert (stats["createPolicyRevision"], stats["publishPolicyRevision"]) == (1, 1)
    assert stats["addSection"] == 1 and "discardPolicyRevision" not in stats
    assert rid == f"{field}:{SECTIONS[field][0]['name']}"
    assert layout(client, field) == foreign(field) + names(SECTIONS[field], sub_key)
    assert open_revisions(client, field) == []

    # Read back: no diff.
    _, read_outs, live = e.read(rid, outs)
    assert e.diff(outs, live).changed == []

    # Move the second rule first and change the first one: moved, not removed and re-added.
    desired = copy.deepcopy(SECTIONS[field])
    rules = desired[0]["rules"]
    rules.insert(0, rules.pop(1))
    rules[1]["description"] = "changed by the test"
    new = e.check({}, {"sections": desired})[0]
    assert e.diff(outs, new).changed == ["sections"]
    ctl.reset_stats()
    outs = e.update(rid, outs, new)
    stats = ctl.stats()
    assert (stats["createPolicyRevision"], stats["publishPolicyRevision"], stats["moveRule"]) == (1, 1, 1)
    assert stats["updateRule"] == 1 and not {"addRule", "removeRule", "removeSection"} & set(stats)
    assert layout(client, field) == foreign(field) + names(desired, sub_key)
    _, _, live = e.read(rid, outs)
    assert e.diff(outs, live).changed == [] and live == e.canonical(new)

    ctl.reset_stats()
    e.delete(rid, outs)
    assert ctl.stats()["publishPolicyRevision"] == 1
    assert layout(client, field) == before
    assert open_revisions(client, field) == []


@FAMILIES
def test_a_failed_publish_discards_the_revision_and_leaves_the_published_policy_as_it_was(
    field, session, ctl
):
    e, client = engine(session, field), session.client
    ctl.add_fault("fail", operation="publishPolicyRevision", nth=1, message="injected failure")
    with pytest.raises(PolicyApplyError, match="published policy is unchanged"):
        e.create(checked(e, SECTIONS[field]))
    assert layout(client, field) == foreign(field)
    assert open_revisions(client, field) == []
    ctl.clear_faults()
    session.reader.invalidate(field)
    e.create(checked(e, SECTIONS[field]))  # converges: no duplicates
    assert layout(client, field) == foreign(field) + names(SECTIONS[field], KINDS[field].rule.sub_key)


def test_a_refresh_of_every_family_reads_each_policy_once(session, ctl):
    created = {}
    for field in KINDS:
        e = engine(session, field)
        created[field] = (e, *e.create(checked(e, SECTIONS[field])))
    fresh = Session(session.client)  # what a new provider process sees: nothing cached
    ctl.reset_stats()
    before = {op: s["calls"] for op, s in session.client.stats.to_dict().items()}
    for e, rid, outs in created.values():
        e2 = Engine(e.spec, lambda: fresh)
        for _ in range(2):  # a second read of the same policy is served from the read path
            _, _, live = e2.read(rid, outs)
            assert e2.diff(outs, live).changed == []
    assert ctl.stats() == {"policy": len(KINDS)}  # the emulator saw one policy query per family
    after = {op: s["calls"] for op, s in session.client.stats.to_dict().items()}
    per_doc = {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}
    assert per_doc == {KINDS[f].doc("Read"): 1 for f in KINDS}


def test_socket_lan_firewall_rules_are_added_moved_updated_and_removed_within_their_lan_rule(session, ctl):
    e, client = engine(session, "socketLan"), session.client
    rid, outs = e.create(checked(e, SECTIONS["socketLan"]))
    desired = copy.deepcopy(SECTIONS["socketLan"])
    hq = desired[0]["rules"][0]
    allow, block = hq["firewall"]
    block["description"] = "no SSH on the LAN"
    hq["firewall"] = [block, {"name": "Allow DNS", "service": {"simple": [{"name": "DNS_UDP"}]}}, allow]
    desired[0]["rules"][1]["firewall"] = [{"name": "NAT guard", "action": "BLOCK", "direction": "BOTH"}]
    ctl.reset_stats()
    outs = e.update(rid, outs, e.check({}, {"sections": desired})[0])
    stats = ctl.stats()
    # Two firewall rules added (one in each LAN rule), one moved, one updated; no LAN rule touched.
    assert stats["addRule"] == 2 and stats["moveRule"] == 1 and stats["updateRule"] == 1
    assert (stats["createPolicyRevision"], stats["publishPolicyRevision"]) == (1, 1)
    assert layout(client, "socketLan")[1] == (
        "HQ LAN",
        [("HQ local", ["Block SSH", "Allow DNS", "Allow printing"]), ("HQ NAT", ["NAT guard"])],
    )
    _, _, live = e.read(rid, outs)
    assert e.diff(outs, live).changed == []

    # Dropping one: removed, the others stay where they are.
    del desired[0]["rules"][0]["firewall"][1]
    ctl.reset_stats()
    outs = e.update(rid, outs, e.check({}, {"sections": desired})[0])
    assert ctl.stats()["removeRule"] == 1 and "moveRule" not in ctl.stats()
    assert layout(client, "socketLan")[1][1][0] == ("HQ local", ["Block SSH", "Allow printing"])


def test_firewall_rule_names_are_unique_within_their_lan_rule_checked_before_any_call(session, ctl):
    e = engine(session, "socketLan")
    sections = copy.deepcopy(SECTIONS["socketLan"])
    sections[0]["rules"][0]["firewall"].append({"name": "Block SSH"})
    ctl.reset_stats()
    _, failures = e.check({}, {"sections": sections})
    assert [(f.property, "Block SSH" in f.reason) for f in failures] == [
        ("sections[0].rules[0].firewall[2].name", True)
    ]
    assert ctl.stats() == {}


@FAMILIES
def test_a_whole_policy_is_discovered_for_import_and_adopted_with_no_write(field, session, ctl):
    e = engine(session, field)
    e.create(checked(e, SECTIONS[field]))
    session.reader.invalidate(field)
    rid, inputs = discover(KINDS[field], session)
    assert rid == f"{field}:" + ",".join(sorted([FOREIGN_SECTION, SECTIONS[field][0]["name"]]))
    assert [s["name"] for s in inputs["sections"]] == [FOREIGN_SECTION, SECTIONS[field][0]["name"]]
    # What `import_` does (engine.adopt): a fresh program declaring what was discovered takes it over.
    program = checked(e, inputs["sections"])
    ctl.reset_stats()
    adopted_id, outs = engine(session, field).create({**program, ADOPT_KEY: rid})
    assert adopted_id == rid and set(outs["section_ids"]) == {s["name"] for s in inputs["sections"]}
    assert set(ctl.stats()) <= {"policy"}  # reads only: no revision, no write
    _, _, live = e.read(rid, outs)
    assert e.diff(outs, live).changed == []


def test_a_firewall_rule_naming_an_unknown_host_is_refused_with_its_path_before_any_write(session, ctl):
    e = engine(session, "socketLan")
    sections = copy.deepcopy(SECTIONS["socketLan"])
    sections[0]["rules"][0]["firewall"][0]["destination"] = {"host": ["no-such-printer"]}
    ctl.reset_stats()
    with pytest.raises(PlanError, match=r"sections\[0\]\.rules\[0\]\.firewall\[0\]\.destination\.host\[0\]"):
        e.create(checked(e, sections))
    assert not {"createPolicyRevision", "addRule", "addSection"} & set(ctl.stats())
