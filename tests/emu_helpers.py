"""Test accounts and keys shared by emulator-backed tests."""

from __future__ import annotations

KEY = "cato-test-key-3f9c1e"  # the tool's own key in test fixtures
OTHER_KEY = "cato-other-integration-77ab"
ACCOUNT = "1001"
OTHER_ACCOUNT = "2002"


def base_fixture() -> dict:
    """Two accounts; the first has our key, another integration's key and a UI admin."""
    return {
        "accounts": [
            {
                "id": ACCOUNT,
                "name": "Acme",
                "api_keys": [
                    {"id": "k-catoiac", "name": "catoiac", "key": KEY},
                    {"id": "k-other", "name": "another integration", "key": OTHER_KEY},
                ],
                "admins": [{"id": "a-alice", "email": "alice@example.com", "name": "Alice"}],
            },
            {
                "id": OTHER_ACCOUNT,
                "name": "Globex",
                "api_keys": [{"id": "k-globex", "name": "globex", "key": "cato-globex-key-0042"}],
            },
        ]
    }
