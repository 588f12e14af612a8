"""Design specs (blueprints): a format reader with no I/O beyond reading the files it is given.

* :mod:`.document`: RST and Markdown specs read into sections (spec-lite fields too);
* :mod:`.substance`: what a sentence says (who, what need, or why it does not count);
* :mod:`.templates`: the project's templates, whose text never counts;
* :mod:`.justify`: the use-case verdict of a spec and its evidence (:mod:`.verdict`);
* :mod:`.references`: blueprint references of a change and whether it needs one.

The rules that turn verdicts into findings are in :mod:`govbot.rules.blueprints`; the
orchestration (a policy, a Gerrit change, a repository) in
:mod:`govbot.services.spec_review`.
"""

from govbot.blueprints.config import BlueprintConfig
from govbot.blueprints.document import (
    Block,
    BlockKind,
    Document,
    Format,
    Section,
    normalise_title,
    parse_spec,
    read_spec,
    spec_format,
)
from govbot.blueprints.justify import judge_file, justify, rest_api_impact
from govbot.blueprints.references import (
    ApiChange,
    BlueprintRef,
    ChangeAssessment,
    ChangeStatus,
    RefKind,
    ResolvedSpec,
    SpecChange,
    api_impact_flag,
    assess_change,
    classify_change,
    clean_name,
    find_references,
    resolve_specs,
    spec_candidates,
)
from govbot.blueprints.substance import Reading, Statement, Zone
from govbot.blueprints.templates import (
    TemplateText,
    clear_caches,
    find_templates,
    load_template,
    template_from_text,
    template_in_listing,
)
from govbot.blueprints.verdict import (
    Judgement,
    RestApiImpact,
    SectionRead,
    SectionState,
    Strength,
    Verdict,
)
from govbot.paths import COMMIT_MSG

__all__ = [
    "COMMIT_MSG",
    "ApiChange",
    "Block",
    "BlockKind",
    "BlueprintConfig",
    "BlueprintRef",
    "ChangeAssessment",
    "ChangeStatus",
    "Document",
    "Format",
    "Judgement",
    "Reading",
    "RefKind",
    "ResolvedSpec",
    "RestApiImpact",
    "Section",
    "SectionRead",
    "SectionState",
    "SpecChange",
    "Statement",
    "Strength",
    "TemplateText",
    "Verdict",
    "Zone",
    "api_impact_flag",
    "assess_change",
    "classify_change",
    "clean_name",
    "clear_caches",
    "find_references",
    "find_templates",
    "judge_file",
    "justify",
    "load_template",
    "normalise_title",
    "parse_spec",
    "read_spec",
    "resolve_specs",
    "rest_api_impact",
    "spec_candidates",
    "spec_format",
    "template_from_text",
    "template_in_listing",
]
