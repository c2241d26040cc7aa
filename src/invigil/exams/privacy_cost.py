"""What each capture source of the exam policy collects and what it costs the candidate in privacy.

The one place for this wording: the policy editor shows it next to every switch, the DPIA
(privacy/dpia.py) quotes it, and a privacy notice may too. The scale is three levels (ADR 0017):

- **low** (1): facts about the computer, no picture or sound of the person or their home;
- **medium** (2): content the candidate produces or sees on screen, or a document seen by a person;
- **high** (3): pictures or sound of the person and their surroundings, or biometric data.

A policy's total is the sum of the levels of what it switches on; the least intrusive setup that
still answers the exam's risk has the smallest total.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from invigil.protocol.policy import Policy

LEVELS = {0: "none", 1: "low", 2: "medium", 3: "high"}


@dataclass(frozen=True)
class Source:
    key: str  # the Policy field
    label: str
    collects: str
    cost: int  # 1 = low, 3 = high (the most intrusive mode of the source)
    reason: str  # why it costs that much, in plain words

    @property
    def level(self) -> str:
        return LEVELS[self.cost]


SOURCES: dict[str, Source] = {
    s.key: s
    for s in (
        Source(
            "screenshots",
            "Screenshots",
            "Pictures of the candidate's screen at random moments.",
            2,
            "Shows everything on screen, including notifications or messages that pop up.",
        ),
        Source(
            "webcam",
            "Webcam",
            "Pictures or short clips from the candidate's camera.",
            3,
            "Shows the candidate's face and home, and anyone who walks past.",
        ),
        Source(
            "microphone",
            "Microphone",
            "Whether someone speaks (detection) or sound clips (recording).",
            3,
            "Recording keeps the voices of the candidate and of everyone nearby; detection keeps no sound.",
        ),
        Source(
            "process_snapshots",
            "Running programs",
            "Names and window titles of running programs at intervals; focus on the exam window, the "
            "number of monitors, virtual-machine and remote-desktop signs.",
            1,
            "Names, titles and yes/no signs only: no content, no pictures.",
        ),
        Source(
            "browser_history",
            "Browser history",
            "Web addresses visited during the exam only.",
            2,
            "Web addresses can reveal interests or health questions looked up during the exam.",
        ),
        Source(
            "handin_folder_backup",
            "Hand-in backup",
            "Copies of files saved in the hand-in folder.",
            1,
            "The candidate's own answer, which they hand in anyway.",
        ),
        Source(
            "removable_storage",
            "USB sticks and other storage",
            "When a USB stick or similar is plugged in.",
            1,
            "That a device was plugged in, never what is on it.",
        ),
        Source(
            "clipboard",
            "Clipboard",
            "Nothing; the clipboard can be cleared at start and end.",
            1,
            "Nothing is kept; the candidate only loses what they had copied.",
        ),
        Source(
            "room_scan",
            "Room scan",
            "A short camera sweep of the room at the start.",
            3,
            "Shows the candidate's home: belongings, family members, signs of religion or health.",
        ),
        Source(
            "id_check",
            "ID check",
            "A photo of the ID card, checked by staff (no biometrics).",
            2,
            "An identity document with photo and number; a person compares it, no software.",
        ),
        Source(
            "face_verification",
            "Biometric face verification",
            "Biometric comparison of the face with a reference photo.",
            3,
            "Biometric data is a special category (GDPR Art. 9) and works worse for some faces.",
        ),
    )
}
# The older name the DPIA and the notice tests use: source -> {"collects", "cost", "reason"}.
CATALOGUE: dict[str, dict[str, Any]] = {
    k: {"collects": s.collects, "cost": s.cost, "reason": s.reason} for k, s in SOURCES.items()
}

# The two timings of a policy: not sources, but they stretch how long recording goes on.
TIMINGS = {
    "tail_period_seconds": (
        "Recording after hand-in",
        "Recording goes on this long after the candidate hands in, to catch late copying. Shorter is "
        "less intrusive.",
    ),
    "allowed_offline_seconds": (
        "Allowed offline time",
        "How long the computer may be offline before staff are told. Recording continues offline and is "
        "sent later; this does not add collection.",
    ),
}


@dataclass(frozen=True)
class Chosen:
    source: Source
    cost: int  # for the mode chosen (may be below the source's worst)
    note: str  # the mode, in words

    @property
    def level(self) -> str:
        return LEVELS[self.cost]


def chosen(policy: Policy) -> list[Chosen]:
    """The sources a policy switches on, in catalogue order, each with the cost of its mode."""
    s = SOURCES
    out: list[Chosen] = []
    if policy.screenshots.enabled:
        i = policy.screenshots.interval
        out.append(Chosen(s["screenshots"], 2, f"every {i.min_seconds}–{i.max_seconds} s"))
    if policy.webcam.enabled:
        mode = "clips" if policy.webcam.mode == "clips" else "snapshots"
        out.append(Chosen(s["webcam"], 3, mode))
    if policy.microphone.enabled:
        recording = policy.microphone.mode == "recording"
        out.append(Chosen(s["microphone"], 3 if recording else 2, policy.microphone.mode))
    if policy.process_snapshots.enabled:
        out.append(Chosen(s["process_snapshots"], 1, f"every {policy.process_snapshots.interval_seconds} s"))
    if policy.browser_history.enabled:
        out.append(Chosen(s["browser_history"], 2, "during the exam"))
    if policy.handin_folder_backup.enabled:
        out.append(Chosen(s["handin_folder_backup"], 1, "on"))
    if policy.removable_storage.mode != "ignore":
        out.append(Chosen(s["removable_storage"], 1, policy.removable_storage.mode))
    if policy.clipboard.clear_at_start_and_end:
        out.append(Chosen(s["clipboard"], 1, "cleared"))
    if policy.room_scan.enabled:
        out.append(Chosen(s["room_scan"], 3, "at the start"))
    if policy.id_check.enabled:
        out.append(Chosen(s["id_check"], 2, "at the start"))
    if policy.face_verification.enabled:
        out.append(Chosen(s["face_verification"], 3, f"{policy.face_verification.score_bands} bands"))
    return out


@dataclass(frozen=True)
class Summary:
    sources: list[Chosen]
    total: int  # the sum of the chosen sources' costs
    highest: str  # "none" when nothing is collected
    high: int  # how many high-cost sources

    @property
    def words(self) -> str:
        if not self.sources:
            return "Nothing is collected besides the hand-in and the facts of the session."
        return (
            f"{len(self.sources)} source{'s' if len(self.sources) != 1 else ''} switched on, privacy "
            f"cost {self.total} (highest: {self.highest}"
            + (f"; {self.high} high-cost source{'s' if self.high != 1 else ''}" if self.high else "")
            + ")."
        )


def summarize(policy: Policy) -> Summary:
    picked = chosen(policy)
    return Summary(
        picked,
        sum(c.cost for c in picked),
        LEVELS[max((c.cost for c in picked), default=0)],
        sum(1 for c in picked if c.cost == 3),
    )


# The most intrusive policy the catalogue allows, for "out of" in the summary.
MAX_TOTAL = sum(s.cost for s in SOURCES.values())
