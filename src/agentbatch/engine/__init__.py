"""Many turns: commands that change state, claiming, leases, dispatch, backoff, callbacks."""
