"""Request bodies as the Letta SDK sends them, validated; each knows its normalised domain form."""
