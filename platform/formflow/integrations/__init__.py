"""Look-ups in other government systems (e-licences, registries) behind small interfaces."""
