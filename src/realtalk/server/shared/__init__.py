"""State the workers share: ephemeral secrets, per-key limits, the routes to calls other workers hold.

In memory for one process (the default), in Redis (`--redis-url`) for several processes or machines
behind a load balancer. `state.shared_state` builds the one set or the other from `Settings`.
"""
