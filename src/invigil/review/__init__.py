"""People's judgements about a candidate's exam: invigilators' incident notes, reviewers' decisions,
and the erasure of evidence that holds sensitive personal data. The software records; people decide."""
