"""Import every domain's models so that Base.metadata is complete (Alembic, tests)."""

from invigil.accounts import models as _accounts  # noqa: F401
from invigil.assignments import models as _assignments  # noqa: F401
from invigil.audit import models as _audit  # noqa: F401
from invigil.evidence import models as _evidence  # noqa: F401
from invigil.exams import models as _exams  # noqa: F401
from invigil.flags import models as _flags  # noqa: F401
from invigil.institutions import models as _institutions  # noqa: F401
from invigil.kit.db import Base
from invigil.privacy import models as _privacy  # noqa: F401
from invigil.retention import models as _retention  # noqa: F401
from invigil.review import models as _review  # noqa: F401
from invigil.sessions import models as _sessions  # noqa: F401

metadata = Base.metadata
