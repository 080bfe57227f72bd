"""A branch site and the firewall sections that govern it, each rule in the order it is evaluated."""

import pulumi
import pulumi_cato as cato

config = pulumi.Config("firewall")
datacenter = config.get("datacenterSubnet") or "10.0.0.0/16"

site = cato.SocketSite(
    "lisbon",
    name="Lisbon",
    native_range="10.40.0.0/24",
    location={"country_code": "PT", "timezone": "Europe/Lisbon", "city": "Lisbon"},
)

# The site is referred to by name; `site.name` (an Output) also makes Pulumi create it first.
internet = cato.InternetFirewallPolicy(
    "internet-firewall",
    sections=[
        {
            "name": "Lisbon Corporate",
            "rules": [
                {
                    "name": "Lisbon: block social media",
                    "action": "BLOCK",
                    "source": {"site": [site.name]},
                    "destination": {"application": [{"id": "facebook"}, {"name": "TikTok"}]},
                    "tracking": {"event": {"enabled": True}},
                },
                {
                    "name": "Lisbon: block risky categories",
                    "source": {"site": [site.name]},
                    "destination": {"app_category": ["Gambling", "Anonymizers"]},
                    "tracking": {
                        "event": {"enabled": True},
                        "alert": {"enabled": True, "frequency": "DAILY"},
                    },
                },
                {
                    "name": "Lisbon: allow file sharing",
                    "action": "ALLOW",
                    "source": {"site": [site.name]},
                    "destination": {"application": [{"id": "box"}, {"id": "dropbox"}]},
                    "service": {"standard": ["HTTPS"]},
                },
            ],
        },
        {
            "name": "Lisbon Guest Wi-Fi",
            "rules": [
                {
                    "name": "Lisbon guests: web only",
                    "action": "ALLOW",
                    "source": {"subnet": ["10.40.50.0/24"]},
                    "service": {"standard": ["HTTP", "HTTPS"]},
                    "exceptions": [
                        {"name": "no file sharing", "destination": {"application": [{"id": "dropbox"}]}}
                    ],
                },
            ],
        },
    ],
)

wan = cato.WanFirewallPolicy(
    "wan-firewall",
    sections=[
        {
            "name": "Lisbon WAN",
            "rules": [
                {
                    "name": "Lisbon to data center",
                    "action": "ALLOW",
                    "direction": "TO",
                    "source": {"site": [site.name]},
                    "destination": {"subnet": [datacenter]},
                    "service": {"standard": ["HTTPS", "SSH"]},
                },
                {
                    "name": "Lisbon: no branch to branch",
                    "action": "BLOCK",
                    "source": {"site": [site.name]},
                    "destination": {"system_group": ["All Sites"]},
                },
            ],
        }
    ],
)

pulumi.export("internet_firewall", internet.id)
pulumi.export("wan_firewall", wan.id)
pulumi.export("rule_ids", internet.rule_ids)
