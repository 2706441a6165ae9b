"""Rasa pipeline configs, generated per language.

Both pipelines use Rasa's WhitespaceTokenizer: it splits elisions at the apostrophe and drops it
(`d'avoine` → `d`, `avoine`; `qu'est-ce` → `qu`, `est-ce`), so an entity that starts after an elided
article (`l'[huile](product)`) still falls on a token boundary and the reported span keeps the
apostrophe of the text. Character n-grams carry French and English inflections (`commande`,
`recommande`, `commandé`) without a language-specific stemmer.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from ..errors import NLUError

_FEATURIZERS: list[dict[str, Any]] = [
    {"name": "WhitespaceTokenizer"},
    {"name": "RegexFeaturizer", "case_sensitive": False, "use_lookup_tables": True, "use_regexes": True},
    {"name": "LexicalSyntacticFeaturizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 4},
]

_TOKEN_FEATURES = [
    "low",
    "bias",
    "prefix5",
    "prefix2",
    "suffix5",
    "suffix3",
    "suffix2",
    "upper",
    "title",
    "digit",
    "pattern",
]
_NEIGHBOUR_FEATURES = ["low", "title", "digit", "pattern"]
#: CRF slot tagger. Measured on held-out sentences with products never seen in training: a window of
#: three words either side, plain IO tags instead of BILOU (too few examples per tag) and light L1
#: regularisation found 24/26 English and 22/24 French product spans, against 18/26 and 16/24 with
#: Rasa's defaults, which missed most unseen one-word products ("we're out of ketchup").
_CRF = {
    "name": "CRFEntityExtractor",
    "BILOU_flag": False,
    "features": [["low"], ["low"], _NEIGHBOUR_FEATURES, _TOKEN_FEATURES, _NEIGHBOUR_FEATURES, ["low"], ["low"]],
    "L1_c": 0.01,
    "L2_c": 0.1,
    "max_iterations": 200,
}

PIPELINES: dict[str, list[dict[str, Any]]] = {
    # Fast to load and light on memory: a linear intent classifier and a CRF tagger for slots.
    "light": [
        *_FEATURIZERS,
        {"name": "LogisticRegressionClassifier", "max_iter": 300},
        _CRF,
        {"name": "EntitySynonymMapper"},
    ],
    # As `light`, with a slot tagger that knows the predicted intent (nlu_service/intent_crf.py).
    "intent_crf": [
        *_FEATURIZERS,
        {"name": "LogisticRegressionClassifier", "max_iter": 300},
        {**_CRF, "name": "intent_crf.IntentCRFEntityExtractor"},
        {"name": "EntitySynonymMapper"},
    ],
    # Rasa's transformer for intents and entities together: slower to train and load, more RAM.
    "diet": [
        *_FEATURIZERS,
        {"name": "DIETClassifier", "epochs": 100, "constrain_similarities": True, "random_seed": 1},
        {"name": "EntitySynonymMapper"},
    ],
}


def pipeline_config(name: str, lang: str) -> str:
    """The Rasa `config.yml` text of pipeline `name` for language `lang`."""
    if name not in PIPELINES:
        raise NLUError(f"unknown NLU pipeline {name!r}", hint=f"set nlu.pipeline to one of {', '.join(PIPELINES)}")
    config = {
        "recipe": "default.v1",
        "assistant_id": f"assistant-nlu-{lang}",
        "language": lang,
        "pipeline": PIPELINES[name],
        "policies": [],
    }
    # A JSON round trip unshares the lists used twice, so the YAML has no anchors or aliases.
    return yaml.safe_dump(json.loads(json.dumps(config)), sort_keys=False, allow_unicode=True)
