"""The student's side: what was collected about them, as ciphertext they open in their browser."""
