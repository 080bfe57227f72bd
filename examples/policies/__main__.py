"""A branch site and a section of its own in every Cato policy: the 12 families of Cato's policy API,
one resource per policy, each rule in the order it is evaluated."""

import pulumi
import pulumi_cato as cato

site = cato.SocketSite(
    "lisbon",
    name="Lisbon",
    native_range="10.40.0.0/24",
    location={"country_code": "PT", "timezone": "Europe/Lisbon", "city": "Lisbon"},
)
lisbon = [site.name]  # an Output: Pulumi creates the site before the rules that name it

# -- security ---------------------------------------------------------------------------------------
internet = cato.InternetFirewallPolicy(
    "internet-firewall",
    sections=[
        {
            "name": "Lisbon Internet",
            "rules": [
                {"name": "Lisbon: block gambling", "source": {"site": lisbon}, "destination": {"app_category": ["Gambling"]}},
                {"name": "Lisbon: allow SaaS", "action": "ALLOW", "source": {"site": lisbon},
                 "destination": {"application": ["Office 365", {"id": "salesforce"}]}},
            ],
        }
    ],
)  # fmt: skip

wan = cato.WanFirewallPolicy(
    "wan-firewall",
    sections=[
        {
            "name": "Lisbon WAN",
            "rules": [
                {"name": "Lisbon to data center", "action": "ALLOW", "source": {"site": lisbon},
                 "destination": {"site": ["Data Center"]}, "service": {"standard": ["HTTPS", "SSH"]}},
            ],
        }
    ],
)  # fmt: skip

tls = cato.TlsInspectPolicy(
    "tls-inspection",
    sections=[
        {
            "name": "Lisbon TLS",
            "rules": [
                # Certificate-pinned and privacy-sensitive traffic is not decrypted.
                {"name": "Lisbon: bypass finance", "action": "BYPASS", "source": {"site": lisbon},
                 "application": {"app_category": ["Business Information"]}},
                {"name": "Lisbon: inspect the rest", "action": "INSPECT", "source": {"site": lisbon},
                 "untrusted_certificate_action": "BLOCK"},
            ],
        }
    ],
)  # fmt: skip

app_control = cato.ApplicationControlPolicy(
    "application-control",
    sections=[
        {
            "name": "Lisbon SaaS",
            "rules": [
                {"name": "Lisbon: monitor Dropbox", "rule_type": "APPLICATION",
                 "application_rule": {"action": "MONITOR", "application": {"application": "Dropbox"},
                                      "source": {"site": lisbon}}},
                {"name": "Lisbon: block WeTransfer",
                 "application_rule": {"action": "BLOCK", "application": {"application": {"id": "wetransfer"}}}},
            ],
        }
    ],
)  # fmt: skip

tenants = cato.AppTenantRestrictionPolicy(
    "tenant-restriction",
    sections=[
        {
            "name": "Lisbon tenants",
            "rules": [
                {"name": "Lisbon: corporate Office 365 only", "application": "Office 365", "source": {"site": lisbon},
                 "headers": [{"name": "Restrict-Access-To-Tenants", "value": "example.com"}]},
            ],
        }
    ],
)  # fmt: skip

hashes = cato.AntiMalwareFileHashPolicy(
    "file-hashes",
    sections=[
        {
            "name": "Lisbon hashes",
            "rules": [
                # A false positive the anti-malware engine flags: allowed until it is fixed upstream.
                {"name": "Allow the build tool", "action": "BYPASS", "file_name": "buildtool.exe",
                 "sha256": "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
                 "expiration_date": "2030-01-01T00:00:00Z"},
            ],
        }
    ],
)  # fmt: skip

# -- networking -------------------------------------------------------------------------------------
wan_network = cato.WanNetworkPolicy(
    "wan-network",
    sections=[
        {
            "name": "Lisbon routing",
            "rules": [
                {"name": "Lisbon: real-time first", "bandwidth_priority": "Real-time", "route_type": "OPTIMIZED",
                 "source": {"site": lisbon}, "application": {"application": ["Zoom", "Microsoft Teams"]}},
                {"name": "Lisbon: SaaS via Madrid", "rule_type": "INTERNET", "bandwidth_priority": {"name": "Bulk"},
                 "route_type": "VIA", "source": {"site": lisbon}, "application": {"application": ["Salesforce"]},
                 "configuration": {"pop_location": ["Madrid"]}},
            ],
        }
    ],
)  # fmt: skip

lan = cato.SocketLanPolicy(
    "lan",
    sections=[
        {
            "name": "Lisbon LAN",
            "rules": [
                # Traffic between Lisbon's LAN segments stays on the Socket, filtered by its LAN firewall rules.
                {"name": "Lisbon: local traffic", "transport": "LAN", "site": {"site": lisbon},
                 "source": {"subnet": ["10.40.0.0/16"]}, "destination": {"subnet": ["10.40.0.0/16"]},
                 "firewall": [
                     {"name": "Lisbon LAN: allow printing", "action": "ALLOW", "service": {"standard": ["HTTPS"]}},
                     {"name": "Lisbon LAN: no SSH", "action": "BLOCK", "service": {"simple": [{"name": "SSH"}]}},
                 ]},
                {"name": "Lisbon: guests to the internet", "transport": "WAN", "site": {"site": lisbon},
                 "source": {"subnet": ["10.40.50.0/24"]}, "nat": {"enabled": True}},
            ],
        }
    ],
)  # fmt: skip

port_forwarding = cato.RemotePortFwdPolicy(
    "port-forwarding",
    sections=[
        {
            "name": "Lisbon forwarding",
            "rules": [
                {"name": "Lisbon: SSH to the bastion", "external_ip": "Lisbon egress",
                 "external_port_range": {"from": 2222, "to": 2222},
                 "internal_ip": "10.40.0.20", "internal_port_range": {"from": 22, "to": 22},
                 "restriction_type": "ALLOW_LIST", "remote_ips": {"subnet": ["198.51.100.0/24"]}},
            ],
        }
    ],
)  # fmt: skip

# -- remote access ----------------------------------------------------------------------------------
private_access = cato.PrivateAccessPolicy(
    "private-access",
    sections=[
        {
            "name": "Engineering apps",
            "rules": [
                {"name": "Engineers to the build farm", "applications": {"application": ["Build farm"]},
                 "source": {"users_group": ["Engineering"]}},
                {"name": "No contractors on the build farm", "action": {"action": "BLOCK"},
                 "applications": {"application": ["Build farm"]}, "source": {"users_group": ["Contractors"]}},
            ],
        }
    ],
)  # fmt: skip

terminal_servers = cato.TerminalServerPolicy(
    "terminal-servers",
    sections=[{"name": "Citrix", "rules": [{"name": "Citrix farm", "allowed_host_ip": "Citrix farm"}]}],
)

ip_allocation = cato.DynamicIpAllocationPolicy(
    "ip-allocation",
    sections=[
        {
            "name": "Contractors",
            "rules": [
                # Contractors leave from their own egress IPs, which partners can allow-list.
                {"name": "Contractors egress", "range": {"global_ip_range": "Contractor egress pool"},
                 "source": {"users_group": ["Contractors"]}},
            ],
        }
    ],
)  # fmt: skip

pulumi.export(
    "policies",
    {
        r._spec: r.id
        for r in (internet, wan, tls, app_control, tenants, hashes, wan_network, lan, port_forwarding,
                  private_access, terminal_servers, ip_allocation)
    },
)  # fmt: skip
