"""What one resource declares: its input schema, operations, id, replace-on fields, read mapping."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError
from ..secrets import is_secret_field

if TYPE_CHECKING:
    from ..journal import Claim
    from ..readpath import AccountView
    from ..session import Session
    from .policy import PolicyKind

Inputs = dict[str, Any]
# Builds GraphQL variables: (resource id or None, inputs, live view) -> variables.
VariablesFn = Callable[[str | None, Inputs, "AccountView"], dict[str, Any]]
# (session, id | None, old outputs | None, new inputs | None, journal claim | None) -> (id, outputs):
# create has no id and no olds, delete no new inputs; the claim is the resource's journal entry.
ApplyFn = Callable[
    ["Session", str | None, Mapping[str, Any] | None, Inputs | None, "Claim | None"],
    tuple[str, dict[str, Any]],
]
# (session, id, old inputs | None, new inputs): writes after the main operation; olds is None after a
# create.
AfterWriteFn = Callable[["Session", str, Inputs | None, Inputs], None]
# (session, id, props) -> (live inputs, outputs), or None when the object is gone.
ReadLiveFn = Callable[["Session", str, Mapping[str, Any]], tuple[Inputs, dict[str, Any]] | None]


class InputError(ValidationError):
    """An input the live account cannot take (a port the site's model lacks, a site that is not
    there), found while building a write, before anything was sent."""


SUBNET = "address range"  # the reservation space whose reservations conflict when their networks overlap


@dataclass(frozen=True)
class Reservation:
    """What a resource's inputs take that no other object may also have: a name in its scope (``key``
    says the scope, e.g. ``(site id, port, name)``), or an address range (``space == SUBNET``, ``key``
    a CIDR). Reservations are compared against the other resources of the program and the live account."""

    space: str  # "site name", "range name", SUBNET, "policy section"...
    key: Any  # hashable
    prop: str  # the input property that makes the claim, for the check failure
    what: str  # how a message shows it: "site name 'Lisbon'"


# Inputs -> the reservations they make.
ReservationsFn = Callable[[Inputs], list[Reservation]]


@dataclass(frozen=True)
class Operation:
    """A GraphQL operation (by name, from catoiac/graphql/*.graphql) and how to call it."""

    document: str
    variables: VariablesFn
    id_path: str | None = None  # dotted path to the new id in the reply (create only)
    # (reply data, inputs) -> the new id, for ids the reply alone does not hold (e.g. "<site>:<slot>").
    id_of: Callable[[Mapping[str, Any], Inputs], str] | None = None


@dataclass(frozen=True)
class ResourceSpec:
    name: str  # Pulumi-facing name, e.g. "SocketSite"
    kind: str  # read-path collection the live object is in, e.g. "sites"
    schema: Mapping[str, Any]  # JSON schema of the inputs (snake_case); "default"s are applied
    create: Operation | None = None  # None only with `apply`
    delete: Operation | None = None
    update: Operation | None = None  # None: every change replaces
    replace_on: tuple[str, ...] = ()  # top-level inputs Cato cannot change in place
    natural_key: tuple[str, ...] = ("name",)  # how to find the live object without its id
    # Live object (read-path dict) -> inputs, in the same normal form check() produces.
    read: Callable[[Mapping[str, Any], AccountView], Inputs] = lambda live, view: dict(live)
    # Extra Cato rules beyond the schema: inputs -> [(property, reason)].
    rules: tuple[Callable[[Inputs], list[tuple[str, str]]], ...] = ()
    # Inputs -> canonical form used for diffs (both sides go through it).
    normalize: Callable[[Inputs], Inputs] = lambda inputs: inputs
    # Which collections a write to this resource makes stale (default: its own kind).
    invalidates: tuple[str, ...] = field(default=())
    # Parent reference (an input holding the id of the object this one lives in).
    parent_input: str | None = None
    # Props whose change must not use create-before-delete (Cato rejects duplicate names).
    delete_before_replace: bool = True
    # Resources that are many API objects (a policy's sections and rules) plan and write themselves:
    # create/update/delete call `apply` instead of the operations, and reads use `read_live`
    # instead of looking the id up in the `kind` collection.
    apply: ApplyFn | None = None
    # Whether `apply` keeps the resource's journal entry itself (a policy: many objects per resource,
    # claimed section by section). Otherwise the engine journals `apply`'s create as it journals an
    # operation's (one object written in several calls, such as a group and its member batches).
    journals_itself: bool = False
    read_live: ReadLiveFn | None = None
    # Settings Cato keeps behind other operations (a site's native range, an IPsec site's tunnels),
    # written after the create or update operation. After a create, the id is journaled first: a
    # failure leaves an object the next up adopts (or, when Cato refused the settings, the object
    # is removed again, so a refused create leaves nothing behind).
    after_write: AfterWriteFn | None = None
    # (live inputs, the state's inputs) -> live inputs: fills what the API never returns (write-only
    # fields) from the state, and keeps the form the state chose (a member named by name or by id).
    reconcile: Callable[[Inputs, Inputs], Inputs] | None = None
    # Inputs whose values are scrubbed from error messages (Pulumi marks them secret in outputs).
    # Every input the redaction policy calls secret (catoiac.secrets: md5_auth_key, psk...) is added.
    secret_inputs: tuple[str, ...] = ()
    # Names and address ranges the object takes (see Reservation): checked before any write.
    reservations: ReservationsFn | None = None
    # More checks against the live account at check time (preview): (preflight, program, owner, old
    # inputs, inputs) -> [(property, reason)]. Policies plan against the live policy here.
    preview_check: Callable[..., list[tuple[str, str]]] | None = None
    # The ordered policy this resource owns sections of (a family of Cato's PolicyMutations), or None.
    # Drift, review and import find policy resources by it: no list of policy specs elsewhere.
    policy: PolicyKind | None = None
    # The wider collection its live objects are part of (an IpsecSite's are the ``sites`` of connection
    # type IPSEC_V2): an object in both is this spec's, never the wider collection's spec's
    # (``specs.owned_elsewhere``; import and drift's unmanaged scan ask it).
    subset_of: str | None = None

    def __post_init__(self) -> None:
        derived = tuple(k for k in self.properties if is_secret_field(k))
        object.__setattr__(self, "secret_inputs", tuple(dict.fromkeys((*self.secret_inputs, *derived))))

    @property
    def type_token(self) -> str:
        return f"cato:index:{self.name}"

    @property
    def properties(self) -> Mapping[str, Any]:
        return self.schema.get("properties", {})
