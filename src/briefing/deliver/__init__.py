"""Sending the built message to readers: plan, transports, ledger and report."""
