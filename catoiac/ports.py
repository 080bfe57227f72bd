"""The ports of each Socket model (``SiteConnectionTypeEnum``): one table for the emulator and the provider.

Evidence (catonetworks/terraform-provider-cato, "TF"; catonetworks/cato-cli):
- TF ``internal/provider/tfmodel/type_socket_site.go`` ``InterfaceByConnType`` and
  ``docs/resources/socket_site.md`` (``interface_index``): the native range is on LAN1 for X1500
  and the virtual sockets, on INT_5 for X1600 and X1600_LTE, on INT_3 for X1700.
- TF ``internal/provider/datasource_networkInterfaces.go`` ``socketMappJSON``: X1500 has WAN1,
  WAN2, LAN1, LAN2; X1600 ports 1-8 (X1600_LTE adds LTE); X1700 ports 1-16, of which the API
  (``SocketInterfaceIDEnum``: INT_1..INT_12) can address 1-12.
- cato-cli ``templates/socket_sites.csv``: WAN links on WAN1/WAN2 (X1500), INT_1/INT_2 (X1600,
  X1600_LTE, X1700) and LTE (X1600_LTE, role wan_3); the X1600 native port as LAN_LAG_MASTER.
  ``templates/sites_config/X1600_network_ranges.csv``: INT_4 as a LAN_LAG_MEMBER; TF
  ``docs/resources/lan_interface_lag_member.md``: INT_6/INT_7 members of an INT_5 master.
- How reads name a port: accountSnapshot's ``InterfaceInfo.id`` and entityLookup(networkInterface)'s
  ``interfaceId`` are the number for INT_n ports (``"5"``) and the name for named ports
  (``"WAN1"``, ``"LAN1"``, ``"LTE"``): TF ``resource_lan_interface.go`` and cato-cli
  ``export_sites.py`` add the ``INT_`` prefix themselves.
Thin evidence, chosen to fail safe: which ports start as WAN links (the template's WAN ports),
which ports can join a LAG (the INT_n ports of X1600/X1700 that are not WAN ports), the virtual
sockets' ports (WAN1 [WAN2 on ESX] and LAN1), X1500's USB1 modem port.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Destination types (SDL ``SocketInterfaceDestType``) by what they carry.
WAN_DESTS = ("CATO", "ALTERNATIVE", "LAYER_2_WAN")  # SDL: ``bandwidth`` only relevant for these
# SDL: ``lan`` (the port's native range) "only relevant for LAN, VRRP_AND_LAN, LAN_LAG_MASTER,
# LAN_LAG_MASTER_AND_VRRP".
LAN_DESTS = ("LAN", "LAN_LAG_MASTER", "LAN_LAG_MASTER_AND_VRRP", "VRRP_AND_LAN")
LAG_MASTERS = ("LAN_LAG_MASTER", "LAN_LAG_MASTER_AND_VRRP")  # SDL: ``lag`` only relevant for these
LAG_MEMBER = "LAN_LAG_MEMBER"
VRRP_DESTS = ("VRRP", "VRRP_AND_LAN", "LAN_LAG_MASTER_AND_VRRP")
DISABLED = "INTERFACE_DISABLED"
# Every destination type a port can be given, and which sub-inputs of UpdateSocketInterfaceInput
# each may carry (SDL descriptions: "Only relevant for ...").
ALL_DESTS = (*WAN_DESTS, *LAN_DESTS, LAG_MEMBER, "LAN_AND_HA", "VRRP", DISABLED)
RELEVANT = {
    "bandwidth": WAN_DESTS,
    "wan": ("CATO",),
    "offCloud": ("CATO",),
    "altWan": ("ALTERNATIVE", "LAYER_2_WAN"),
    "lan": LAN_DESTS,
    "lag": LAG_MASTERS,
    # SDL says "Only relevant for VRRP"; TF's lan_interface also sends vrrp_type with the
    # VRRP LAN types, so those are accepted too.
    "vrrp": VRRP_DESTS,
}


@dataclass(frozen=True)
class Port:
    id: str  # SocketInterfaceIDEnum value: "INT_5", "LAN1", "LTE"
    default_dest: str = DISABLED
    wan_role: str | None = None  # the default WAN role of a default WAN link
    modem: bool = False  # USB/LTE: only ever a CATO WAN link
    lag: bool = False  # may be a LAG master or member

    @property
    def index(self) -> str:
        """How reads show the port: ``"5"`` for INT_5, the name for named ports."""
        return self.id.removeprefix("INT_") if self.id.startswith("INT_") else self.id


@dataclass(frozen=True)
class Model:
    connection_type: str
    ports: tuple[Port, ...]
    native: str  # the port holding the site's native range
    virtual: bool = False
    by_id: dict[str, Port] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {p.id: p for p in self.ports})

    @property
    def port_ids(self) -> list[str]:
        return [p.id for p in self.ports]

    def port(self, port_id: str) -> Port | None:
        return self.by_id.get(port_id)

    def problem(self, port_id: str, dest: str) -> str | None:
        """Why ``port_id`` cannot be ``dest`` on this model, or None."""
        port = self.port(port_id)
        if port is None:
            return (
                f"{port_id} is not a port of a {self.connection_type} Socket: "
                f"its ports are {', '.join(self.port_ids)}"
            )
        if port.modem and dest not in ("CATO", DISABLED):
            return f"{port_id} is a modem port: it can only be a CATO WAN link"
        if port_id == self.native and dest not in LAN_DESTS:
            return (
                f"{port_id} holds the site's native range on a {self.connection_type}: "
                f"it must stay one of {', '.join(LAN_DESTS)}"
            )
        if (dest in LAG_MASTERS or dest == LAG_MEMBER) and not port.lag and port_id != self.native:
            return f"{port_id} of a {self.connection_type} cannot be in a LAG ({dest})"
        if (dest in LAG_MASTERS or dest == LAG_MEMBER) and self.connection_type not in LAG_MODELS:
            return f"a {self.connection_type} Socket has no LAG support ({dest})"
        if self.virtual and dest not in ("CATO", "LAN", DISABLED):
            return f"a virtual {self.connection_type} port can only be CATO or LAN, not {dest}"
        return None


def _int(n: int, **kw) -> Port:
    return Port(f"INT_{n}", **kw)


_WAN1 = {"default_dest": "CATO", "wan_role": "wan_1"}
_WAN2 = {"default_dest": "CATO", "wan_role": "wan_2"}
_LAN = {"default_dest": "LAN"}


def _x16(n: int, native: int) -> list[Port]:
    ports = [_int(1, **_WAN1), _int(2, **_WAN2)]
    ports += [_int(i, **(_LAN if i == native else {}), lag=True) for i in range(3, n + 1)]
    return ports


LAG_MODELS = ("SOCKET_X1600", "SOCKET_X1600_LTE", "SOCKET_X1700")
MODELS: dict[str, Model] = {
    m.connection_type: m
    for m in (
        Model(
            "SOCKET_X1500",
            (
                Port("WAN1", **_WAN1),
                Port("WAN2", **_WAN2),
                Port("LAN1", **_LAN),
                Port("LAN2"),
                Port("USB1", modem=True),
            ),
            native="LAN1",
        ),
        Model("SOCKET_X1600", tuple(_x16(8, 5)), native="INT_5"),
        Model("SOCKET_X1600_LTE", (*_x16(8, 5), Port("LTE", modem=True)), native="INT_5"),
        Model("SOCKET_X1700", tuple(_x16(12, 3)), native="INT_3"),
        Model(
            "SOCKET_ESX1500",
            (Port("WAN1", **_WAN1), Port("WAN2", **_WAN2), Port("LAN1", **_LAN)),
            native="LAN1",
            virtual=True,
        ),
        *(
            Model(t, (Port("WAN1", **_WAN1), Port("LAN1", **_LAN)), native="LAN1", virtual=True)
            for t in ("SOCKET_AWS1500", "SOCKET_AZ1500", "SOCKET_GCP1500")
        ),
    )
}
DEFAULT_MODEL = "SOCKET_X1500"


def model(connection_type: str | None) -> Model:
    return MODELS[connection_type or DEFAULT_MODEL]


def native_port(connection_type: str | None) -> str | None:
    """The port holding a Socket model's native range; None for a site without Socket ports (an
    IPsec site's native range is on its one IPsec interface, which has no port id)."""
    found = MODELS.get(connection_type or DEFAULT_MODEL)
    return found.native if found else None


def port_id(raw: object) -> str | None:
    """A port as reads show it (``"5"``, ``5``, ``"INT_5"``, ``"LAN1"``) -> its SocketInterfaceIDEnum id."""
    if raw in (None, ""):
        return None
    text = str(raw).strip()
    return f"INT_{int(text)}" if text.isdigit() else text
