"""obsfleet's CrossGuard policy pack (`obsfleet-residency`): one policy per module, `__main__` assembles them."""
