"""Domain records rendered as the JSON shapes Letta's SDK parses."""
