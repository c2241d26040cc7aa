"""Server-rendered pages. The full staff UI and student portal arrive with issue 5."""
