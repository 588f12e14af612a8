"""DEP rules: what a change may remove or alter, and how (deprecation and compatibility).

:mod:`.elements` names what the rules talk about (the elements of a diff with a
lifecycle) and their shared helpers; the rule modules follow the guidelines: removals
(:mod:`.removals`), deprecation and sunset (:mod:`.sunset`), what clients send
(:mod:`.request`) and read (:mod:`.response`), and versions (:mod:`.versions`).
Default severities are for external operations; internal ones get one step milder.
"""
