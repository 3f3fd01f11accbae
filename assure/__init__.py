"""assure: member account portal for health-insurance funds."""
