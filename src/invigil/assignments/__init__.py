"""PIN-sealed assignment sets (the ITX Flex flow): ciphertext and metadata only, never the PIN.

Not to be confused with ``exams.models.ExamAssignment``, which assigns staff to exams.
"""
