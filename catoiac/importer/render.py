"""Names and source code: every item gets a Pulumi resource name, a module and a variable, and
every module its source.

Layout (README "Layout" says why): a module per site (``sites/<site>.py``: the site, its ports,
ranges, static hosts and BGP peers), account-wide objects by type (``account/groups.py``), a module
per policy (``policies/<policy>.py``). Each package loads every module in it, so a site imported
later is a new file and nothing else changes.

Names are slugs of Cato's names, unique per resource type; a range, host, port or peer is prefixed
with its site's slug (``hq-servers``). Names already given (the project's manifest) are kept, so an
object keeps its name, module and variable whatever is imported around it later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..resources.gql_schema import snake
from ..resources.specs import SPECS
from . import pycode
from .collect import SITES, is_site_anchor
from .model import Item, Link, Lookup, Secret
from .pycode import Call, Expr, identifier, slug

SITE_PACKAGE, ACCOUNT_PACKAGE, POLICY_PACKAGE = "sites", "account", "policies"
# Names a module of the program must not take: the packages, and what modules import as.
RESERVED = frozenset(
    {"cato", "pulumi", "config", "site", "policy", SITE_PACKAGE, ACCOUNT_PACKAGE, POLICY_PACKAGE}
)
# A variable's suffix when its name is taken in its module, per type.
SUFFIX = {"NetworkRange": "range", "StaticHost": "host", "SocketInterface": "port", "BgpPeer": "peer"}
# Order of the resources in a module: a site, then what its ranges need (ports), ranges, hosts...
_FIRST = ("SocketSite", "SocketInterface", "NetworkRange", "StaticHost", "BgpPeer")
_ORDER = {name: i for i, name in enumerate([*_FIRST, *(n for n in SPECS if n not in _FIRST)])}


@dataclass
class Names:
    """What the manifest remembers: per item (``Spec:id``) its resource, module and variable, and
    per site its module."""

    items: dict[str, dict[str, str]] = field(default_factory=dict)
    site_modules: dict[str, str] = field(default_factory=dict)


def _order(item: Item) -> tuple:
    return (_ORDER.get(item.spec.name, len(_ORDER)), item.label, item.id)


class Layout:
    def __init__(self, items: list[Item], names: Names, site_names: Mapping[str, str]) -> None:
        self.items = items
        self.names = names
        self.site_names = site_names  # site id -> name, for modules of sites the program only looks up
        self.by_key: dict[tuple[str, str], Item] = {}
        self._assign()

    # -- names ------------------------------------------------------------------------------------
    def _assign(self) -> None:
        names = self.names
        taken_modules = {m for m in names.site_modules.values()}
        taken_resources: dict[str, set[str]] = {}
        taken_vars: dict[str, set[str]] = {}
        for key, entry in names.items.items():
            taken_resources.setdefault(key.split(":", 1)[0], set()).add(entry["resource"])
            taken_vars.setdefault(entry["module"], set()).add(entry["var"])
        # Site modules first, in a stable order, then items.
        sites = sorted(
            {i.site_id for i in self.items if i.site_id}, key=lambda s: (self.site_names.get(s, ""), s)
        )
        for sid in sites:
            if sid not in names.site_modules:
                base = identifier(slug(self.site_names.get(sid, "")), "site")
                names.site_modules[sid] = _unique(
                    base if base not in RESERVED else f"{base}_site", taken_modules
                )
                taken_modules.add(names.site_modules[sid])
        for item in sorted(self.items, key=_order):
            known = names.items.get(item.manifest_key)
            if known:
                item.resource, item.module, item.var = known["resource"], known["module"], known["var"]
            else:
                item.module = self._module(item)
                item.resource = _unique(
                    self._resource(item), taken_resources.setdefault(item.spec.name, set())
                )
                item.var = self._var(item, taken_vars.setdefault(item.module, set()))
                names.items[item.manifest_key] = {
                    "resource": item.resource,
                    "module": item.module,
                    "var": item.var,
                }
            taken_resources.setdefault(item.spec.name, set()).add(item.resource)
            taken_vars.setdefault(item.module, set()).add(item.var)
            self.by_key[item.key] = item

    def _module(self, item: Item) -> str:
        if item.site_id:
            return f"{SITE_PACKAGE}/{self.names.site_modules[item.site_id]}.py"
        if item.spec.policy is not None:
            return f"{POLICY_PACKAGE}/{snake(item.spec.policy.field)}.py"
        return f"{ACCOUNT_PACKAGE}/{snake(item.spec.name)}s.py"

    def _resource(self, item: Item) -> str:
        if item.spec.policy is not None:
            return slug(snake(item.spec.policy.field))
        own = slug(item.label)
        if is_site_anchor(item.spec) or not item.site_id:
            return own or slug(item.spec.name)
        site = slug(self.site_names.get(item.site_id, "")) or "site"
        return f"{site}-{own}" if own else site

    def _var(self, item: Item, taken: set[str]) -> str:
        if is_site_anchor(item.spec):
            return _unique("site", taken)
        if item.spec.policy is not None:
            return _unique("policy", taken)
        suffix = SUFFIX.get(item.spec.name, snake(item.spec.name))
        base = identifier(slug(item.label), suffix)
        if base in RESERVED or base in taken:
            base = f"{base}_{suffix}"
        return _unique(base, taken)

    # -- modules ----------------------------------------------------------------------------------
    def modules(self, only: Iterable[str] | None = None) -> dict[str, str]:
        """{path: source} of every module with items (or of ``only``)."""
        by_module: dict[str, list[Item]] = {}
        for item in self.items:
            by_module.setdefault(item.module, []).append(item)
        paths = sorted(set(only) if only is not None else set(by_module))
        return {path: ModuleWriter(self, path, by_module.get(path, [])).source() for path in paths}

    def site_module(self, site_id: str) -> str | None:
        module = self.names.site_modules.get(site_id)
        return f"{SITE_PACKAGE}/{module}.py" if module else None


def _unique(base: str, taken: set[str]) -> str:
    name, n = base, 2
    sep = "_" if "-" not in base and base.isidentifier() else "-"
    while name in taken:
        name, n = f"{base}{sep}{n}", n + 1
    return name


class ModuleWriter:
    """The source of one module."""

    def __init__(self, layout: Layout, path: str, items: list[Item]) -> None:
        self.layout = layout
        self.path = path
        self.items = sorted(items, key=lambda i: (not is_site_anchor(i.spec), *_order(i)))
        self.imports: set[tuple[str, str]] = set()  # (package, module) imported from
        self.uses_pulumi = False
        self.uses_config = False
        self.site_id = next(
            (sid for sid, m in layout.names.site_modules.items() if layout.site_module(sid) == path), None
        )

    def _alias(self, module_path: str) -> str:
        package, name = module_path.removesuffix(".py").split("/")
        self.imports.add((package, name))
        return name

    def link(self, link: Link) -> Any:
        """The code for a link: the program's object, else its fallback (a lookup or the name)."""
        if link.collection == SITES and link.id == self.site_id:
            return Expr(f"site.{link.attr}", link.value)
        target = self.layout.by_key.get((link.collection, link.id))
        if target is not None:
            if target.module == self.path:
                return Expr(f"{target.var}.{link.attr}", link.value)
            return Expr(f"{self._alias(target.module)}.{target.var}.{link.attr}", link.value)
        if link.collection == SITES:
            module = self.layout.site_module(link.id)
            if module is not None:  # a site the program looks up in its module
                return Expr(f"{self._alias(module)}.site.{link.attr}", link.value)
        if link.fallback is None:
            raise ValueError(f"{link.collection} {link.id} is not in the program")
        return self.value(link.fallback)

    def value(self, v: Any, item: Item | None = None) -> Any:
        if isinstance(v, Link):
            return self.link(v)
        if isinstance(v, Lookup):
            args = Call(f"cato.{v.func}", (), tuple((k, self.value(x)) for k, x in v.kwargs))
            return Expr(pycode.flat(args) + f".{v.attr}")
        if isinstance(v, Secret):
            assert item is not None
            self.uses_config = True
            return Expr(f"config.require_secret({pycode.string(secret_key(item, v.input))})")
        if isinstance(v, Mapping):
            return {k: self.value(x, item) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x, item) for x in v]
        return v

    def _statement(self, item: Item) -> str:
        props = item.spec.properties
        keys = [k for k in props if k in item.inputs] + [k for k in item.inputs if k not in props]
        kwargs = [(k, self.value(item.inputs[k], item)) for k in keys]
        opts: list[tuple[str, Any]] = [("import_", item.id)]
        depends = [self.link(d) for d in item.depends_on if self.layout.by_key.get((d.collection, d.id))]
        if depends:
            opts.append(("depends_on", [Expr(d.code.rsplit(".", 1)[0]) for d in depends]))
        self.uses_pulumi = True
        kwargs.append(("opts", Call("pulumi.ResourceOptions", (), tuple(opts))))
        return pycode.assign(item.var, Call(f"cato.{item.spec.name}", (item.resource,), tuple(kwargs)))

    def source(self) -> str:
        body = []
        if self.site_id and not any(is_site_anchor(i.spec) for i in self.items):
            name = self.layout.site_names.get(self.site_id, "")
            body.append(pycode.assign("site", Call("cato.get_site", (), (("name", name),))))
        body += [self._statement(i) for i in self.items]
        head = [pycode.docstring(self._docstring()), ""]
        third = ["import pulumi"] if self.uses_pulumi or self.uses_config else []
        head += [*third, "import pulumi_cato as cato", ""]
        by_package: dict[str, list[str]] = {}
        for package, name in sorted(self.imports):
            by_package.setdefault(package, []).append(name)
        if by_package:
            head += [_from_import(p, names) for p, names in sorted(by_package.items())] + [""]
        if self.uses_config:
            head += ["config = pulumi.Config()", ""]
        return "\n".join(head) + "\n" + "\n\n".join(body) + "\n"

    def _docstring(self) -> str:
        if self.site_id:
            name = self.layout.site_names.get(self.site_id, "")
            kinds = sorted({_plural(i.spec.name) for i in self.items if not is_site_anchor(i.spec)})
            what = f"the site and its {_join(kinds)}" if kinds else "the site"
            if not any(is_site_anchor(i.spec) for i in self.items):
                what = f"its {_join(kinds)} (the site itself is not managed here: looked up by name)"
            return f"Site {name}: {what}."
        if self.items and self.items[0].spec.policy is not None:
            kind = self.items[0].spec.policy
            return (
                f"The {kind.title} policy ({kind.field}): its sections, with their rules in order.\n\n"
                "Rules name sites, ranges and hosts through the program's own objects (a range and a "
                "host by its site, so that two of one name in two sites are told apart)."
            )
        return f"Account-wide {_plural(self.items[0].spec.name) if self.items else 'objects'}."


def secret_key(item: Item, input_name: str) -> str:
    """The stack config key a secret input is read from: ``hq-core-md5-auth-key``."""
    return f"{item.resource}-{slug(input_name)}"


def _from_import(package: str, names: list[str]) -> str:
    line = f"from {package} import {', '.join(names)}"
    if len(line) <= pycode.LINE:
        return line
    return f"from {package} import (\n" + "".join(f"    {n},\n" for n in names) + ")"


_PLURALS = {
    "SocketSite": "sites",
    "NetworkRange": "network ranges",
    "StaticHost": "static hosts",
    "SocketInterface": "ports",
    "BgpPeer": "BGP peers",
    "Group": "groups",
}


def _plural(spec_name: str) -> str:
    return _PLURALS.get(spec_name) or f"{spec_name} resources"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def package_init(package: str) -> str:
    what = {
        SITE_PACKAGE: "A module per site: a site imported later is a new file here.",
        ACCOUNT_PACKAGE: "Account-wide objects, a module per type.",
        POLICY_PACKAGE: "A module per policy.",
    }[package]
    return (
        pycode.docstring(f"{what} Every module in this folder is part of the program.") + "\n\n"
        "import importlib\nimport pkgutil\n\n"
        "for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):\n"
        '    importlib.import_module(f"{__name__}.{_module}")\n'
    )


def main_module(account: str, packages: list[str]) -> str:
    lines = [
        pycode.docstring(f"Cato account {account}, under code: see README.md."),
        "",
        *[f"import {p}  # noqa: F401  (each package loads every module in it)" for p in sorted(packages)],
    ]
    return "\n".join(lines) + "\n"
