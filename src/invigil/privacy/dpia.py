"""A draft data-protection impact assessment (GDPR Art. 35) for one exam, from its policy.

Art. 35(7) asks for (a) a systematic description of the processing and its purposes, (b) an
assessment of necessity and proportionality, (c) an assessment of the risks to the rights and
freedoms of the people concerned, and (d) the measures that address them. Invigil can write what it
knows — what this exam collects, for how long, who can see it, and what Invigil does against each
risk — and asks the questions only the institution can answer (why proctoring at all, why each
source). It is a draft: a person completes it, the DPO gives an opinion, someone signs.

``build`` returns a structured document; ``markdown`` and ``pdf`` render it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from invigil.exams.models import Exam
from invigil.exams.privacy_cost import CATALOGUE
from invigil.exams.privacy_cost import LEVELS as COST
from invigil.institutions.models import Institution
from invigil.kit.clock import iso
from invigil.privacy import notice
from invigil.privacy.texts import TEXTS
from invigil.protocol.policy import parse_policy

CATALOGUE_KEY = {  # notice source -> policy catalogue entry (for its privacy cost)
    "webcam_clips": "webcam",
    "microphone_detection": "microphone",
    "microphone_recording": "microphone",
}

# (risk, who is affected, what Invigil does about it). Always part of the assessment.
RISKS: list[tuple[str, str, list[str]]] = [
    (
        "Unauthorised access to recordings (a curious operator, a stolen backup, staff without a need)",
        "candidates, and bystanders caught on camera or microphone",
        [
            "Every item is encrypted on the candidate's computer (HPKE) to keys only the institution's named "
            "people hold; the server and its operator store ciphertext only (ADR 0002, 0006).",
            "Role rules: invigilators only during the exam window, reviewers only of their exams, examiners "
            "never; coordinators and admins see states, not content (docs/access.md).",
            "Two-factor login for every role that can see candidate data; session timeouts.",
            "Every read is written to a hash-chained access log with signed checkpoints (ADR 0013); the "
            "candidate sees who opened their data and when.",
        ],
    ),
    (
        "Loss of evidence (network failure, crash, full disk)",
        "candidates (a missing recording can count against them)",
        [
            "The agent spools sealed items on disk until the server acknowledges them; uploads are "
            "idempotent and resumable; nothing is dropped before it is acknowledged.",
            "Offline periods are recorded as facts, not as misconduct.",
        ],
    ),
    (
        "Modification of evidence or of the record of who saw it",
        "candidates (a decision based on altered evidence)",
        [
            "Authenticated encryption bound to exam, session, item and kind: a changed or moved item does "
            "not open.",
            "Hand-in receipts are signed; the access log is hash-chained and `invigil audit verify` names "
            "any edited, deleted or reordered entry.",
        ],
    ),
    (
        "Retention beyond need",
        "candidates",
        [
            "A period per data category; expired categories are crypto-shredded hourly (keys deleted, then "
            "ciphertext); legal holds only for open cases, with reasons; a signed deletion certificate per "
            "exam (ADR 0014).",
        ],
    ),
    (
        "Wrong or unfair automated flags (detectors that work worse for some groups, in poor light, "
        "or on disabled candidates)",
        "candidates",
        [
            "Flags only ask a person to look; nothing in the software decides or acts on one; reviewers "
            "record decisions with reasons.",
            "Face detection measured per group and lighting condition on real data (docs/benchmarks.md); "
            "thresholds and rules are the institution's, per exam.",
            "Head pose and gaze are compared with the candidate's own start of the exam, not a norm.",
        ],
    ),
    (
        "Intrusion into the home: family members, health or religious items, documents on screen",
        "candidates and third parties",
        [
            "Every source is off unless the exam switches it on; the policy editor shows each source's "
            "privacy cost.",
            "Microphone detection mode keeps no sound; face verification is opt-in and coarse.",
            "Reviewers can erase an item that holds sensitive personal data, with a reason, logged.",
        ],
    ),
    (
        "Identifying people from network or device data",
        "candidates",
        [
            "Only the network (/24, /48) is kept, agent descriptions are cut to product, major version and "
            "OS family, no device fingerprinting; a test searches every table and log line.",
        ],
    ),
]

NECESSITY = [
    "Why is a supervised take-home exam with proctoring needed for this course, instead of an exam on "
    "campus, an open-book format, an oral exam or an assignment?",
    "Which cheating risks does each switched-on source address, and could a less intrusive source "
    "address them (for example microphone detection instead of recording, snapshots instead of clips)?",
    "Are the retention periods the shortest that still allow complaints, appeals and misconduct cases "
    "under the institution's rules?",
    "How are candidates who cannot use a webcam or a quiet room accommodated?",
    "How and when are candidates informed (the privacy notice is generated from this exam's policy and "
    "shown before activation)?",
]


def build(exam: Exam, institution: Institution, now: datetime) -> dict[str, Any]:
    policy = parse_policy(exam.policy)
    facts = notice.facts(exam, institution)
    english = TEXTS["en"]
    sources = []
    for source, params in facts["collected"]:
        entry = CATALOGUE[CATALOGUE_KEY.get(source, source)]
        sources.append(
            {
                "source": source,
                "what": english["sources"][source].format(**params),
                "privacy_cost": COST[int(entry["cost"])],
                "question": f"Why is this needed for this exam? ({entry['collects']})",
            }
        )
    return {
        "title": f"Data protection impact assessment (draft): {exam.title}",
        "generated_at": iso(now),
        "exam": {
            "id": exam.id,
            "title": exam.title,
            "starts_at": iso(exam.starts_at),
            "ends_at": iso(exam.ends_at),
        },
        "controller": facts["controller"],
        "dpo_contact": facts["dpo_contact"] or "(not stated)",
        "legal_basis": facts["legal_basis"] or "(not stated: the institution must state it)",
        "purposes": english["why"],
        "region": facts["region"],
        "sources": sources,
        "always": english["always"],
        "automated": english["flags"],
        "biometric": policy.face_verification.enabled,
        "retention_days": facts["retention_days"],
        "recipients": english["access"],
        "necessity": NECESSITY,
        "risks": [{"risk": r, "affected": a, "measures": m} for r, a, m in RISKS],
        "notice_version": notice.version(facts),
    }


def markdown(d: dict[str, Any]) -> str:
    out = [
        f"# {d['title']}",
        "",
        f"Generated {d['generated_at']} by Invigil from the exam's settings. "
        "A draft: complete the open questions, ask the data protection officer for an opinion, sign.",
        "",
    ]
    out += [
        "## 1. The processing (Art. 35(7)(a))",
        "",
        f"- Exam: {d['exam']['title']} (`{d['exam']['id']}`), "
        f"{d['exam']['starts_at']} to {d['exam']['ends_at']}",
        f"- Controller: {d['controller']}; data protection officer: {d['dpo_contact']}",
        f"- Legal basis: {d['legal_basis']}",
        f"- Purposes: {d['purposes']}",
        f"- Storage: encrypted, region {d['region']}",
        f"- Recipients: {d['recipients']}",
        f"- Automated analysis: {d['automated']}",
        "- Special categories: "
        + ("biometric data (face verification): Art. 9 applies" if d["biometric"] else "none collected"),
        f"- Privacy notice shown to candidates: version `{d['notice_version']}`",
        "",
        "| source | what is collected (as the privacy notice tells candidates) | privacy cost |",
        "|---|---|---|",
        *[f"| {s['source'].replace('_', ' ')} | {s['what']} | {s['privacy_cost']} |" for s in d["sources"]],
        f"| always | {d['always']} | low |",
        "",
        "| data category | kept for (days after the exam) |",
        "|---|---|",
        *[f"| {k.replace('_', ' ')} | {v} |" for k, v in d["retention_days"].items()],
        "",
        "## 2. Necessity and proportionality (Art. 35(7)(b))",
        "",
        *[f"- {q}\n  - *Answer:*" for q in d["necessity"]],
        *[
            f"- {s['source'].replace('_', ' ').capitalize()}: {s['question']}\n  - *Answer:*"
            for s in d["sources"]
        ],
        "",
        "## 3. Risks and measures (Art. 35(7)(c), (d))",
        "",
    ]
    for r in d["risks"]:
        out += [
            f"### {r['risk']}",
            "",
            f"Affected: {r['affected']}.",
            "",
            *[f"- {m}" for m in r["measures"]],
            "",
            "Likelihood and severity after these measures: *to be assessed*.",
            "",
        ]
    out += [
        "## 4. Opinion and sign-off",
        "",
        "- Data protection officer's opinion:",
        "- Decision and date:",
        "- Signed:",
        "",
    ]
    return "\n".join(out)


_PDF_SAFE = str.maketrans({"–": "-", "—": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "→": "->"})


def pdf(d: dict[str, Any]) -> bytes:
    """The Markdown draft set as a simple PDF (core fonts: Latin-1, so æ ø å ä ö ü ß and § work)."""
    from fpdf import FPDF

    doc = FPDF(format="A4")
    doc.set_auto_page_break(auto=True, margin=15)
    doc.add_page()
    doc.set_title(d["title"].translate(_PDF_SAFE))
    for line in markdown(d).translate(_PDF_SAFE).encode("latin-1", "replace").decode("latin-1").splitlines():
        text = line.replace("`", "").replace("*", "")
        if line.startswith("# "):
            doc.set_font("helvetica", "B", 15)
            doc.multi_cell(0, 8, text[2:], new_x="LMARGIN", new_y="NEXT")
        elif line.startswith("## ") or line.startswith("### "):
            doc.set_font("helvetica", "B", 12 if line.startswith("## ") else 10)
            doc.multi_cell(0, 7, text.lstrip("# "), new_x="LMARGIN", new_y="NEXT")
        elif line.startswith("|---"):
            continue
        elif line.startswith("|"):
            doc.set_font("helvetica", "", 8)
            doc.multi_cell(
                0, 5, "  ".join(c.strip() for c in text.strip("|").split("|")), new_x="LMARGIN", new_y="NEXT"
            )
        elif not line.strip():
            doc.ln(2)
        else:
            doc.set_font("helvetica", "", 10)
            doc.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(doc.output())
