"""Infrastructure that is not the store or the archive: the bank channel, the intake worker processes."""
