"""Writes audit records in the shape of Cato's ``auditFeed``."""

from __future__ import annotations

from typing import Any

from ..feed import audit_value
from .context import RequestContext

CHANGE_TYPES = ("CREATED", "MODIFIED", "DELETED", "ENABLED", "DISABLED")
# SDL ``AuditFieldName.module``: "a general marker of the modified area: administration,
# configuration, security".
MODULES = ("administration", "configuration", "security")
# Cato KB 4413273463953: before and after values are recorded "for some policies, such as the
# Internet Firewall and WAN Firewall"; other records say only what changed. Fail safe: values
# only for those two policies' objects.
VALUED_MODELS = ("InternetFirewall", "WanFirewall")
# A fixture's ``audit_values: all`` records values for every object: the KB says "such as", so a
# tenant may record more, and tests of secret masking need records that carry a key's values.
AUDIT_VALUES = ("firewalls", "all")


def record(
    ctx: RequestContext,
    *,
    object_id: str,
    object_name: str,
    object_type: str,
    change_type: str,
    model_type: str,
    module: str,
    creation_date: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one record. For the firewall policies' objects (``VALUED_MODELS``), ``before``/``after``
    become ``change_Before_<f>``/``change_After_<f>`` for the fields that changed; other records
    carry no values, as on a real tenant."""
    assert change_type in CHANGE_TYPES, change_type
    assert module in MODULES, module
    every = ctx.store.get_meta(f"audit_values:{ctx.account_id}") == "all"
    if not every and not model_type.startswith(VALUED_MODELS):
        before = after = None
    now = ctx.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    fields: dict[str, str] = {
        "change_type": change_type,
        "model_type": model_type,
        "model_name": object_name,
        "module": module,
        "creation_date": creation_date or now,
        "insertion_date": now,
    }
    before, after = before or {}, after or {}
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            if key in before:
                fields[f"change_Before_{key}"] = audit_value(before.get(key))
            if key in after:
                fields[f"change_After_{key}"] = audit_value(after.get(key))
    ident = ctx.identity
    rec = {
        "time": ctx.now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "admin": {"id": ident.id, "name": ident.name, "type": "admin"} if ident.is_admin else None,
        "apiKey": None if ident.is_admin else {"id": ident.id, "name": ident.name, "type": "apiKey"},
        "object": {"id": object_id, "name": object_name, "type": object_type},
        "fieldsMap": fields,
    }
    ctx.store.append_audit(ctx.account_id, ctx.now, rec)
