"""relevo simulate: a deterministic world of customers and back-ends around relevo."""
