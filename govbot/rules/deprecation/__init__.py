"""DEP rules: what a change may remove or alter, and how (deprecation and compatibility).

:mod:`.elements` names what the rules talk about (the elements of a diff with a
lifecycle) and their shared helpers; :mod:`.direction` is the direction logic, written
once: a change breaks a client when the request side got stricter or the response side
looser (``docs/breaking-changes.md``). The rule modules follow the guidelines and the
families of breaking changes: removals (:mod:`.removals`), deprecation and sunset
(:mod:`.sunset`), what clients send (:mod:`.request`, :mod:`.parameters`,
:mod:`.request_body`) and read (:mod:`.response`, :mod:`.response_body`), composition
(:mod:`.composition`), stability levels and webhooks (:mod:`.lifecycle`), and versions
(:mod:`.versions`). Default severities are for external operations; internal ones get
one step milder; draft and alpha surface is reported, not held against the change.
"""
