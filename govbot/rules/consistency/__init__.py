"""CON rules: consistency with the OpenStack API-SIG guidelines, one module per guideline area.

:mod:`.index` builds what every rule reads (the spec's operations and schema graph, and
who uses what), :mod:`.resources` which segments the spec shows to be collections, and
:mod:`.times` what a field's declaration shows about a time; the rule modules follow the guidelines' prefixes: :mod:`.naming` (NAM),
:mod:`.paths` (NAM/URI), :mod:`.methods` (REP/MET), :mod:`.status_codes` (RC),
:mod:`.errors` (ERR), :mod:`.pagination` (PAG/SRT/CNT), :mod:`.docs` (DOC/OpenAPI) and
:mod:`.versions` (TIM/HDR/MV/TAG/LNK/VD); :mod:`.glossary` the preferred terms (CON082).
Cross-spec rules are in :mod:`govbot.rules.cross`.
"""
