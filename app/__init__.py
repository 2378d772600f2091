"""podalign's service and command line around the alignment engine."""
