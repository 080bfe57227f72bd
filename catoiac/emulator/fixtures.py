"""Seeds accounts from a YAML/JSON fixture.

Identities (accounts, API keys, UI admins) are loaded here; each domain loads its own section
(sites, groups, policies...) through its registered seeder, so seeded objects obey the same
business rules as API-created ones. Seeding writes no audit records: it is history before
the window any drift report looks at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .audit import AUDIT_VALUES
from .context import RequestContext
from .registry import SEEDERS
from .store import Identity, Store

# libyaml's safe loader when PyYAML has it: the same documents, ~10x faster on large fixtures.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # noqa: S506  (a safe loader)


def load(path: str | Path) -> dict[str, Any]:
    return parse(Path(path).read_text()) or {}


def seed(store: Store, fixture: dict[str, Any]) -> None:
    accounts = fixture.get("accounts")
    if not isinstance(accounts, list):
        raise ValueError("fixture: 'accounts' must be a list of accounts")
    with store.transaction():
        for acc in accounts:
            account_id = str(acc["id"])
            store.add_account(account_id, acc.get("name", f"account {account_id}"))
            for k in acc.get("api_keys", []):
                store.add_api_key(account_id, str(k["id"]), k["name"], k["key"], k.get("role", "editor"))
            for a in acc.get("admins", []):
                store.add_admin(account_id, str(a["id"]), a["email"], a.get("name", a["email"]))
            values = acc.get("audit_values", "firewalls")
            if values not in AUDIT_VALUES:
                raise ValueError(f"fixture: account {account_id}: audit_values must be one of {AUDIT_VALUES}")
            store.set_meta(f"audit_values:{account_id}", values)
            ctx = RequestContext(store, Identity("admin", "seed", "fixture", account_id), store.now())
            ctx.scratch["seeding"] = True
            for seeder in SEEDERS:
                seeder(ctx, acc)
