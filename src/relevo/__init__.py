"""relevo: a customer process hub for telecom operators and utilities."""
