"""The one redaction policy (catoiac.secrets): which fields are secret, and how text is scrubbed."""

from __future__ import annotations

import logging

from graphql import build_schema

from catoiac import secrets
from catoiac.schema import subset_schema
from catoiac.secret_fields import SCHEMA_SECRET_FIELDS
from catoiac.secrets import MASK, Redactor, derive_secret_fields, is_secret_field, mask_fields


def test_the_shipped_secret_field_list_is_what_the_real_schema_marks_as_credentials(real_schema):
    # Regenerate with `catoiac emulator gen-schema` when this fails.
    assert SCHEMA_SECRET_FIELDS == derive_secret_fields(real_schema)
    assert {"md5AuthKey", "psk"} <= set(SCHEMA_SECRET_FIELDS)


def test_the_emulator_schema_has_no_secret_field_the_list_misses():
    assert set(derive_secret_fields(subset_schema())) <= set(SCHEMA_SECRET_FIELDS)


def test_credential_fields_are_found_by_name_or_description_and_only_text_fields_count():
    schema = build_schema(
        '''
        type Query { tunnel: Tunnel }
        type Tunnel {
          """Pre-shared key. This field is write-only."""
          key: String
          adminPassword: String
          passwordNeverExpires: Boolean
          md5: String
          """Tunnel name"""
          name: String
          clientSecret: String
        }
        '''
    )
    assert derive_secret_fields(schema) == ("adminPassword", "clientSecret", "key")


def test_secret_fields_match_in_every_spelling():
    for name in (
        "md5AuthKey",
        "md5_auth_key",
        "MD5_AUTH_KEY",
        "change_Before_md5AuthKey",
        "change_After_psk",
        "psk",
    ):
        assert is_secret_field(name), name
    for name in ("md5", "name", "peer_asn", "pskCount", None, 3):
        assert not is_secret_field(name), name


def test_mask_fields_masks_secret_values_at_any_depth_and_keeps_the_rest():
    data = {"peer": {"md5_auth_key": "k1", "name": "core"}, "tunnels": [{"psk": "p"}], "psk": None}
    assert mask_fields(data) == {
        "peer": {"md5_auth_key": MASK, "name": "core"},
        "tunnels": [{"psk": MASK}],
        "psk": None,
    }
    assert data["peer"]["md5_auth_key"] == "k1"  # a copy, not in place


def test_scrub_masks_known_values_and_any_value_after_a_secret_field_name():
    r = Redactor("the-api-key-123")
    cases = {
        "Illegal header value b'the-api-key-123\\n'": "Illegal header value b'[secret]\\n'",
        "Variable '$input' got invalid value {'md5AuthKey': 'never seen', 'name': 'x'}": (
            "Variable '$input' got invalid value {'md5AuthKey': '[secret]', 'name': 'x'}"
        ),
        'previous md5AuthKey: "old \\" key" kept': 'previous md5AuthKey: "[secret]" kept',
        "change_Before_md5AuthKey=rt-bgp-md5-42; ok": "change_Before_md5AuthKey=[secret]; ok",
        "psk=hunter2, name=x": "psk=[secret], name=x",
        "md5_auth_key: abc}": "md5_auth_key: [secret]}",
    }
    for text, want in cases.items():
        assert r.scrub(text) == want


def test_learnt_values_are_scrubbed_wherever_they_appear_later():
    r = Redactor()
    r.learn({"bgpPeer": [{"name": "core", "md5AuthKey": "previous-key-77"}], "psk": "ab"})
    assert (
        r.scrub("peer core refused: key previous-key-77 is in use")
        == "peer core refused: key [secret] is in use"
    )
    assert r.scrub("ab stays: too short to mask as a literal") == "ab stays: too short to mask as a literal"


def test_every_log_record_of_the_process_is_scrubbed_once_a_client_exists(caplog):
    secrets.install_log_scrubber()
    secrets.REDACTOR.add("logged-secret-value-9")
    caplog.set_level(logging.INFO)
    logging.getLogger("anything.at.all").info("value %s", "logged-secret-value-9")
    try:
        raise ValueError("boom logged-secret-value-9")
    except ValueError:
        logging.getLogger("another").exception("failed")
    assert "logged-secret-value-9" not in caplog.text
    assert "value [secret]" in caplog.text and "boom [secret]" in caplog.text


def test_api_key_problems_name_the_setting_and_never_the_key():
    key = "k3y-value-0001"
    assert secrets.api_key_problem(key) is None
    for bad, what in (
        (key + "\n", "trailing newline"),
        ("\t" + key, "whitespace"),
        (key + "\x1b", "control"),
    ):
        problem = secrets.api_key_problem(bad, "cato:apiKey")
        assert what in problem and "cato:apiKey" in problem and key not in problem
    assert "no Cato API key" in secrets.api_key_problem("  ", "CATO_TOKEN")
