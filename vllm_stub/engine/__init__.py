"""Request state and scheduling for one ``generate`` call."""
