"""Rules: the registry (:mod:`.registry`), the families, and the catalogue (:mod:`.catalog`)."""
