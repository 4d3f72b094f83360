"""The pack's policies, one per module; `pack` assembles them and `api` is what other tools may use."""
