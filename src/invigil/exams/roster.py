"""A candidate list as a CSV file, checked row by row before anything is registered.

Columns (a header row names them, in any order): ``pseudonym`` (optional: the id the proctoring data
will know the candidate by; made up when empty), ``full_name``, ``email``, ``student_number``. Names
go to the identity table, kept apart from the proctoring data (exams/models.py). A file with any bad
row is refused as a whole, with every problem named by its line number: nothing is half-imported.
"""

from __future__ import annotations

import csv
import io
import re

from invigil.kit.errors import Invalid

MAX_ROWS = 5000  # as the staff API's CandidatesAdd
MAX_BYTES = 1024 * 1024
COLUMNS = {"pseudonym": 32, "full_name": 200, "email": 254, "student_number": 64}
ALIASES = {"name": "full_name", "id": "pseudonym", "student_id": "student_number"}
_PSEUDONYM = re.compile(r"^[A-Za-z0-9-]{3,32}$")


class RosterInvalid(Invalid):
    """The file was refused; ``problems`` are (line number, message), line 1 being the header."""

    def __init__(self, message: str, problems: list[tuple[int, str]]) -> None:
        super().__init__(message)
        self.problems = problems


def parse(text: str, taken: set[str]) -> list[dict[str, str]]:
    """The candidates of a CSV text, or RosterInvalid listing every problem. ``taken``: the
    pseudonyms already registered for the exam."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise RosterInvalid(f"The file is larger than {MAX_BYTES // 1024} KiB; split it.", [])
    text = text.lstrip("\ufeff")  # spreadsheet programs add a byte-order mark
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise RosterInvalid("The file is empty: it needs a header row and one row per candidate.", [])
    header = [ALIASES.get(h.strip().lower(), h.strip().lower()) for h in rows[0]]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown or not header:
        raise RosterInvalid(
            "The first row must name the columns: "
            f"{', '.join(COLUMNS)} (unknown: {', '.join(repr(u) for u in unknown) or 'none'}).",
            [(1, f"unknown column {u!r}") for u in unknown],
        )
    if len(set(header)) != len(header):
        raise RosterInvalid("A column is named twice in the first row.", [(1, "a column is named twice")])
    if len(rows) - 1 > MAX_ROWS:
        raise RosterInvalid(f"At most {MAX_ROWS} candidates per file; split it.", [])
    people: list[dict[str, str]] = []
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            problems.append((number, f"has {len(row)} cells, the header has {len(header)}"))
            continue
        person = {name: cell.strip() for name, cell in zip(header, row, strict=True)}
        for name, limit in COLUMNS.items():
            if len(person.get(name, "")) > limit:
                problems.append((number, f"{name.replace('_', ' ')} is longer than {limit} characters"))
        pseudonym = person.get("pseudonym", "")
        if pseudonym:
            if not _PSEUDONYM.match(pseudonym):
                problems.append((number, f"pseudonym {pseudonym!r} must be 3-32 letters, digits or dashes"))
            elif pseudonym in seen:
                problems.append((number, f"pseudonym {pseudonym} is also on line {seen[pseudonym]}"))
            elif pseudonym in taken:
                problems.append((number, f"pseudonym {pseudonym} is already registered for this exam"))
            seen.setdefault(pseudonym, number)
        email = person.get("email", "")
        if email and "@" not in email:
            problems.append((number, f"{email!r} is not an email address"))
        people.append({k: v for k, v in person.items() if v})
    if problems:
        raise RosterInvalid(
            f"Nothing was imported: {len(problems)} problem{'s' if len(problems) != 1 else ''} in the file. "
            "Correct them and import the whole file again.",
            problems,
        )
    if not people:
        raise RosterInvalid("The file has a header row but no candidates.", [])
    return people
