"""Read the account once and turn every live object in scope into an ``Item`` (see ``model``).

``HOOKS`` holds what differs per resource type; a type without a hook gets the defaults: every
object of its collection is imported, labelled by its name, and its ``parent_input`` (a site id)
links to its site. A new type therefore needs a hook only if it has references of its own, or
objects that are part of another resource.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..errors import CatoError
from ..resources import policy as policies
from ..resources.engine import Engine
from ..resources.gql_schema import SITE_SCOPED, ref_item
from ..resources.refs import ENTITY_REFS, scoped_form
from ..resources.spec import ResourceSpec
from ..resources.specs import SPECS, owned_elsewhere
from ..resources.specs.socket_interface import part_of_site as port_part_of_site
from ..secrets import is_secret_field
from ..session import Session
from .model import (
    WRITE_ONLY,
    Context,
    Item,
    Link,
    Secret,
    Skipped,
    data_copy,
    differs,
    get_at,
    live_function,
    minimal,
    range_holding,
    resolved,
    set_at,
)

SITES = "sites"  # the collection of the objects a site module is about
PREFETCH = 6  # collections read side by side: requests that mostly wait on the API


class ImportError_(CatoError):  # noqa: N801  (ImportError is Python's)
    """Bad options (an unknown type or site), before anything is written."""


# -- per-type hooks --------------------------------------------------------------------------------
PartOf = Callable[[Mapping[str, Any], Context], "str | None"]
LinkFn = Callable[[dict[str, Any], Mapping[str, Any], Context, ResourceSpec], dict[str, Any]]


def _no_part(_obj: Mapping[str, Any], _ctx: Context) -> str | None:
    return None


def _link_parent(inputs: dict[str, Any], obj: Mapping[str, Any], ctx: Context, spec: ResourceSpec) -> dict:
    if spec.parent_input and inputs.get(spec.parent_input):
        inputs[spec.parent_input] = ctx.site_link(str(inputs[spec.parent_input]), "id")
    return inputs


@dataclass(frozen=True)
class Hook:
    # Why an object is not a resource of its own (it is part of another one), or None.
    part_of: PartOf = _no_part
    # Its name in Cato, as the README and the resource name show it.
    label: Callable[[Mapping[str, Any]], str] = lambda obj: str(obj.get("name") or obj.get("id"))
    # Its inputs with references to other objects as Links.
    link: LinkFn = _link_parent
    # Objects it needs to exist first, beyond its references (a host needs the range its address is in).
    depends: Callable[[Mapping[str, Any], Context], list[Link]] = lambda obj, ctx: []


def _native_range(obj: Mapping[str, Any], ctx: Context) -> str | None:
    if obj.get("range_type") == "Native":
        return (
            f"the native range of site {ctx.site_name(obj.get('site_id'))!r}: its SocketSite's native_range"
        )
    return None


def _link_range(inputs: dict[str, Any], obj: Mapping[str, Any], ctx: Context, spec: ResourceSpec) -> dict:
    inputs = _link_parent(inputs, obj, ctx, spec)
    port = inputs.get("interface")
    if port:  # through the port's resource, when there is one: the range then waits for the port
        key = f"{obj['site_id']}:{port}"
        inputs["interface"] = Link("socket_interfaces", key, "interface_id", port, port)
    return inputs


def _port_part_of(obj: Mapping[str, Any], ctx: Context) -> str | None:
    if port_part_of_site(obj):
        return f"port {obj.get('interface_id')} of site {ctx.site_name(obj.get('site_id'))!r} holds its native range as the site made it"
    return None


def _host_depends(obj: Mapping[str, Any], ctx: Context) -> list[Link]:
    rid = range_holding(ctx.reader, str(obj.get("site_id")), str(obj.get("ip")))
    link = ctx.object_link("ranges", rid) if rid else None
    return [link] if link is not None else []


# Group member type -> the collection its id is in, where the program may hold it.
_MEMBER_COLLECTIONS = {"SITE": "sites", "HOST": "hosts", "SITE_NETWORK_SUBNET": "ranges"}


def _link_group(inputs: dict[str, Any], obj: Mapping[str, Any], ctx: Context, spec: ResourceSpec) -> dict:
    names = {(m["type"], str(m["id"])): m.get("name") for m in obj.get("members") or []}
    members = []
    for m in inputs.get("members") or []:
        mtype, mid = m["type"], str(m.get("id"))
        collection = _MEMBER_COLLECTIONS.get(mtype)
        link = None
        if collection == SITES:
            link = ctx.site_link(mid, "id")
        elif collection:
            link = ctx.object_link(collection, mid)
        if link is not None:
            members.append({"type": mtype, "id": link})
        else:  # a network interface, floating subnet, global range: by the name Cato shows
            members.append({"type": mtype, "name": names.get((mtype, mid)) or m.get("name")})
    inputs["members"] = members
    return inputs


HOOKS: dict[str, Hook] = {
    "NetworkRange": Hook(part_of=_native_range, link=_link_range),
    "SocketInterface": Hook(part_of=_port_part_of, label=lambda obj: str(obj.get("interface_id"))),
    "StaticHost": Hook(depends=_host_depends),
    "Group": Hook(link=_link_group),
}


def hook(spec: ResourceSpec) -> Hook:
    return HOOKS.get(spec.name, Hook())


# -- scope ---------------------------------------------------------------------------------------
def is_site_anchor(spec: ResourceSpec) -> bool:
    """A site of some kind (a SocketSite, an IpsecSite): the first resource of its site's module."""
    return SITES in (spec.kind, spec.subset_of) and spec.policy is None


def secrets(name: str, value: Any, schema: Mapping[str, Any]) -> Any:
    """``value`` (a secret input) with each secret field in it a ``Secret``, named after its path
    (``primary-tunnel-1-psk``). A required secret field the read lacks is write-only in Cato (an
    IPsec tunnel's ``psk``): a ``Secret`` too, whose value the program reads from the stack's config;
    the stand-in value here only lets checks and the comparison with the live object run (the
    spec's ``reconcile`` takes write-only fields from the program, as an adoption does)."""
    if not isinstance(value, dict | list):
        return Secret(name, value)
    if isinstance(value, list):
        each = schema.get("items") or {}
        return [secrets(f"{name.removesuffix('s')}-{n + 1}", v, each) for n, v in enumerate(value)]
    props = schema.get("properties") or {}
    out = dict(value)
    for key, sub in props.items():
        if is_secret_field(key):
            if key in out:
                out[key] = Secret(f"{name}-{key}", out[key])
            elif key in (schema.get("required") or ()):
                out[key] = Secret(f"{name}-{key}", WRITE_ONLY)
        elif isinstance(out.get(key), dict | list):
            out[key] = secrets(f"{name}-{key}", out[key], sub)
    return out


def is_site_scoped(spec: ResourceSpec) -> bool:
    return is_site_anchor(spec) or spec.parent_input is not None


def resolve_types(types: Iterable[str] | None) -> list[ResourceSpec]:
    if not types:
        return list(SPECS.values())
    unknown = [t for t in types if t not in SPECS]
    if unknown:
        raise ImportError_(
            f"--types: unknown type(s) {', '.join(unknown)}: use one of {', '.join(sorted(SPECS))}"
        )
    return [s for s in SPECS.values() if s.name in set(types)]


def resolve_sites(ctx: Context, wanted: Iterable[str]) -> set[str]:
    """Site ids for ``--site`` values (a name or an id), or an error naming the unknown ones."""
    sites = ctx.reader.get(SITES)
    by_name = {s.get("name"): sid for sid, s in sites.items()}
    out, unknown = set(), []
    for w in wanted:
        if w in by_name:
            out.add(by_name[w])
        elif str(w) in sites:
            out.add(str(w))
        else:
            unknown.append(w)
    if unknown:
        from ..resources.refs import did_you_mean, suggest

        hints = "; ".join(f"{w!r}:{did_you_mean(suggest(w, by_name)) or ' no such site'}" for w in unknown)
        raise ImportError_(f"--site: no site with that name or id in the account ({hints})")
    return out


# -- collection ----------------------------------------------------------------------------------
class Collector:
    def __init__(self, session: Session, specs: list[ResourceSpec], site_ids: set[str] | None) -> None:
        self.ctx = Context(session)
        self.session = session
        self.specs = specs
        self.site_ids = site_ids
        self.skipped: list[Skipped] = []
        self.part_of: list[Skipped] = []  # not resources of their own, and why (README)

    def run(self) -> list[Item]:
        items: list[Item] = []
        names = {s.name for s in self.specs}
        # Every collection is asked for at once, in the order they are used: while one type's objects
        # are turned into items, the next collections are on their way (each is read once, whoever
        # asks first; a read that failed here fails again, with its error, where it is used).
        kinds = list(dict.fromkeys([SITES, *(s.kind for s in self.specs)]))
        with ThreadPoolExecutor(max_workers=min(PREFETCH, len(kinds))) as pool:
            for kind in kinds:
                pool.submit(self.ctx.reader.get, kind)
            for spec in self.specs:
                if spec.policy is not None:
                    items += self._policy(spec, group_names="Group" in names)
                else:
                    items += self._objects(spec)
        return items

    # -- objects ---------------------------------------------------------------------------------
    def _live(self, spec: ResourceSpec) -> dict[str, Mapping[str, Any]]:
        collection = self.ctx.reader.get(spec.kind)
        if self.site_ids is not None and spec.parent_input and hasattr(collection, "for_site"):
            out: dict[str, Mapping[str, Any]] = {}
            for sid in sorted(self.site_ids):  # a collection read per site: only the sites in scope
                out.update(collection.for_site(sid))
            return out
        elsewhere = owned_elsewhere(spec, self.ctx.reader)  # an IPSEC_V2 site is no SocketSite
        objects = {k: o for k, o in collection.items() if str(k) not in elsewhere}
        if self.site_ids is None:
            return objects
        if is_site_anchor(spec):
            return {k: o for k, o in objects.items() if k in self.site_ids}
        return {k: o for k, o in objects.items() if str(o.get(spec.parent_input or "")) in self.site_ids}

    def _objects(self, spec: ResourceSpec) -> list[Item]:
        h = hook(spec)
        engine = Engine(spec, lambda: self.session)
        out = []
        for oid, obj in sorted(self._live(spec).items(), key=lambda kv: (h.label(kv[1]), kv[0])):
            label = h.label(obj)
            site_id = (
                oid if is_site_anchor(spec) else (obj.get(spec.parent_input) if spec.parent_input else None)
            )
            scope = f"site:{site_id}" if site_id else f"type:{spec.name}"
            why = h.part_of(obj, self.ctx)
            if why:
                self.part_of.append(Skipped(spec.name, label, why, scope))
                continue
            live = live_function(spec, self.session, oid, obj)
            full = live({})
            if full is None:
                continue  # gone since the collection was read
            inputs = minimal(spec, live, full)
            inputs = h.link(data_copy(inputs), obj, self.ctx, spec)
            for key in spec.secret_inputs:
                if inputs.get(key) is not None:
                    inputs[key] = secrets(key, inputs[key], spec.properties.get(key) or {})
            problem = self._problem(spec, engine, live, resolved(inputs))
            if problem:
                self.skipped.append(Skipped(spec.name, label, problem, scope))
                continue
            out.append(
                Item(
                    spec, str(oid), label, str(site_id) if site_id else None, inputs, h.depends(obj, self.ctx)
                )
            )
        return out

    @staticmethod
    def _problem(spec: ResourceSpec, engine: Engine, live, inputs: dict[str, Any]) -> str | None:
        """Why the program could not declare this object as it is, or None."""
        _, failures = engine.check({}, inputs)
        if failures:
            return "catoiac's checks refuse it as it is in Cato: " + "; ".join(
                f"{f.property}: {f.reason}" for f in failures
            )
        changed = differs(spec, live, inputs)
        if changed:
            return f"the program cannot reproduce it exactly (differs in {', '.join(changed)})"
        return None

    # -- policies --------------------------------------------------------------------------------
    def _policy(self, spec: ResourceSpec, group_names: bool) -> list[Item]:
        """One resource owning every section of the policy that the program can express."""
        kind = spec.policy
        assert kind is not None
        reader = self.ctx.reader
        collection = reader.get(kind.field)
        scope = f"type:{spec.name}"
        for sec in collection.values():
            for r in sec["rules"]:
                if r["system"]:
                    self.part_of.append(Skipped(spec.name, r["name"], "a system rule: Cato's own", scope))
                elif not sec["id"]:
                    self.skipped.append(Skipped(spec.name, r["name"], "a rule outside any section: a resource "
                                                "owns sections, and Cato would move it into the first one added",
                                                scope))  # fmt: skip
        found = policies.discover(kind, self.session, by_id=lambda t, _i: t in ENTITY_REFS)
        if found is None:
            return []
        _, inputs = found
        sections = []
        for section in inputs["sections"]:
            problem = self._link_section(kind, section, group_names)
            if problem:
                self.skipped.append(Skipped(spec.name, f"section {section['name']!r}", problem, scope))
            else:
                sections.append(section)
        engine = Engine(spec, lambda: self.session)
        while sections:
            _, failures = engine.check({}, {"sections": resolved(sections)})
            bad = {_section_index(f.property) for f in failures}
            if not bad:
                break
            for i in sorted(bad - {None}, reverse=True):
                reasons = "; ".join(
                    f"{f.property}: {f.reason}" for f in failures if _section_index(f.property) == i
                )
                self.skipped.append(Skipped(spec.name, f"section {sections[i]['name']!r}",
                                            f"catoiac's checks refuse it as it is in Cato: {reasons}", scope))  # fmt: skip
                del sections[i]
            if None in bad:
                raise CatoError(f"{spec.name}: {failures}")
        if not sections:
            return []
        rid = policies.resource_id(kind, [s["name"] for s in sections])
        live = spec.read_live(self.session, rid, {"sections": resolved(sections)})  # type: ignore[misc]
        live_sections = {s["name"]: s for s in (live[0]["sections"] if live else [])}
        canonical = engine.canonical({"sections": resolved(sections)})["sections"]
        kept = []
        for section, want in zip(sections, canonical, strict=True):
            if engine.canonical({"sections": [live_sections.get(want["name"], {"name": want["name"]})]})[
                "sections"
            ] != [want]:
                self.skipped.append(Skipped(spec.name, f"section {want['name']!r}",
                                            "the program cannot reproduce it exactly", scope))  # fmt: skip
            else:
                kept.append(section)
        if not kept:
            return []
        rid = policies.resource_id(kind, [s["name"] for s in kept])
        return [Item(spec, rid, kind.title or kind.field, None, {"sections": kept})]

    def _link_section(self, kind, section: dict[str, Any], group_names: bool) -> str | None:
        for rule in section["rules"]:
            lists: dict[str, None] = {}
            for path, t, item in list(kind.rule.refs(rule)):
                if t not in ENTITY_REFS or not isinstance(item, dict) or "id" not in item:
                    continue
                value = self._ref(t, str(item["id"]), group_names)
                if value is None:
                    what = ENTITY_REFS[t].what
                    return f"rule {rule['name']!r} refers to a {what} no read of the account shows ({path})"
                set_at(rule, path, value)
                if path.endswith("]"):
                    lists[path.rsplit("[", 1)[0]] = None
            for path, _t, item in list(kind.rule.refs(rule)):  # a catalog entry by name: its name
                if isinstance(item, dict) and set(item) == {"name"} and isinstance(item["name"], str):
                    set_at(rule, path, item["name"])
            for path in lists:  # in the order a reader expects: by name, as the canonical form sorts
                _sort_refs(rule, path)
            _reorder(rule)
            for sub in rule.get(kind.rule.sub_key or "", None) or []:
                _reorder(sub)
        return None

    def _ref(self, t: str, oid: str, group_names: bool) -> Any:
        reader = self.ctx.reader
        entity = ENTITY_REFS[t]
        obj = reader.get(entity.collection).get(oid)
        if obj is None:
            return None
        if t == "SiteRefInput":
            return self.ctx.site_link(oid, "name")
        if t == "GroupRefInput":
            same = [g for g in reader.get("groups").values() if g.get("name") == obj.get("name")]
            if len(same) > 1:  # group names are not unique in Cato: by id, through the program's group
                return {"id": Link("groups", oid, "id", oid, None)} if group_names else None
            return Link("groups", oid, "name", obj["name"], obj["name"])
        if t in SITE_SCOPED:
            form = scoped_form(reader, t, oid)
            if form is None:
                return None
            out: dict[str, Any] = {"site": self.ctx.site_link(obj["site_id"], "name")}
            if "interface" in form:
                out["interface"] = form["interface"]
            out["name"] = Link(entity.collection, oid, "name", obj["name"], obj["name"])
            return out
        return None


# A rule's fields in the order people read a rule (the rest follow in the schema's order).
RULE_ORDER = ("name", "description", "enabled", "action", "direction", "source", "destination",
              "application", "service", "connection_origin", "country", "device", "tracking", "exceptions")  # fmt: skip


def _reorder(rule: dict[str, Any]) -> None:
    ordered = {k: rule[k] for k in RULE_ORDER if k in rule}
    ordered |= {k: v for k, v in rule.items() if k not in ordered}
    rule.clear()
    rule.update(ordered)


def _section_index(path: str) -> int | None:
    if path.startswith("sections["):
        return int(path[len("sections[") : path.index("]")])
    return None


def _sort_refs(rule: dict[str, Any], path: str) -> None:
    items = get_at(rule, path)
    if isinstance(items, list):
        items.sort(key=lambda v: tuple(sorted(ref_item(resolved(v)).items())))
