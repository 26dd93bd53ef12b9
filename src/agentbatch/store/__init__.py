"""Tables, migrations and every SQL statement. Functions here take a connection and never commit:
the caller (one API request, one engine step group) owns the transaction."""
