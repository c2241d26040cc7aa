"""The policy: everything off by default, nonsense refused in words a coordinator understands."""

from __future__ import annotations

import pytest

from invigil.exams.privacy_cost import CATALOGUE
from invigil.exams.retention import parse_retention
from invigil.kit.errors import Invalid
from invigil.protocol.policy import EVIDENCE_KINDS, Policy, parse_policy


def test_everything_is_off_by_default():
    p = parse_policy({})
    assert not any(
        [
            p.screenshots.enabled,
            p.webcam.enabled,
            p.microphone.enabled,
            p.process_snapshots.enabled,
            p.browser_history.enabled,
            p.handin_folder_backup.enabled,
            p.room_scan.enabled,
            p.id_check.enabled,
            p.face_verification.enabled,
            p.clipboard.clear_at_start_and_end,
        ]
    )
    assert p.removable_storage.mode == "ignore"
    assert p.tail_period_seconds == 900
    assert [k for k in EVIDENCE_KINDS if p.collects(k)] == ["handin_file"]


def test_catalogue_covers_every_capture_source():
    assert set(CATALOGUE) == set(Policy.model_fields) - {
        "tail_period_seconds",
        "allowed_offline_seconds",
        "max_item_megabytes",
    }


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"face_verification": {"enabled": True}}, "need the webcam"),
        ({"room_scan": {"enabled": True}, "id_check": {"enabled": True}}, "the room scan and the ID check"),
        (
            {"screenshots": {"enabled": True, "interval": {"min_seconds": 90, "max_seconds": 30}}},
            "must not be larger",
        ),
        (
            {"screenshots": {"interval": {"min_seconds": 1, "max_seconds": 30}}},
            "shortest interval is 5 seconds",
        ),
        (
            {"process_snapshots": {"forbidden": ["discord"]}},
            "forbidden programs needs process-list snapshots",
        ),
        ({"browser_history": {"allowed_sites": ["wikipedia.org"]}}, "allowed sites only matter"),
        (
            {"process_snapshots": {"enabled": True, "forbidden": ["discord", " "]}},
            "forbidden: an empty entry in the list of forbidden programs",
        ),
        (
            {"browser_history": {"enabled": True, "allowed_sites": ["https://moodle.uni.example/c/1"]}},
            "is not a site: give the site's name only",
        ),
        (
            {
                "webcam": {
                    "enabled": True,
                    "mode": "clips",
                    "clip_seconds": 40,
                    "interval": {"min_seconds": 30, "max_seconds": 60},
                }
            },
            "do not fit",
        ),
        ({"screenshot": {"enabled": True}}, "is not a policy setting"),
        ({"tail_period_seconds": -5}, "tail period seconds"),
        ({"microphone": {"enabled": True, "mode": "spying"}}, "microphone → mode"),
    ],
)
def test_nonsense_is_refused_with_a_readable_message(policy, message):
    with pytest.raises(Invalid) as err:
        parse_policy(policy)
    assert message in err.value.message
    assert err.value.message.startswith("The exam policy is not valid: ")


def test_policy_switches_control_evidence_kinds():
    p = parse_policy({"webcam": {"enabled": True}, "microphone": {"enabled": True}})
    assert p.collects("webcam_frame")
    assert not p.collects("webcam_clip")
    assert not p.collects("audio_clip")  # detection only: no recordings
    assert parse_policy({"microphone": {"enabled": True, "mode": "recording"}}).collects("audio_clip")
    assert not p.collects("screenshot")
    assert not p.collects("nonsense")


def test_retention_defaults_and_errors():
    r = parse_retention({})
    assert r.webcam == 21
    assert r.handins == 1825
    with pytest.raises(Invalid, match="is not a data category"):
        parse_retention({"dna": 5})
    with pytest.raises(Invalid, match="1 to 3650 days"):
        parse_retention({"webcam": 0})
