"""An intent-aware CRF slot tagger for Rasa 3.6: `intent_crf.IntentCRFEntityExtractor` in a pipeline.

Rasa's `CRFEntityExtractor` tags every sentence with one CRF, whatever its intent, so slot names leak
across intents (a `playlist` inside a restaurant booking). This subclass keeps one CRF trained on
every example but gives each feature of the current token a second copy conjoined with the intent
("feature augmentation", Daumé 2007): the shared copy learns what all intents have in common
(a city is a city), the intent copy what is particular to one intent. Training uses each example's
intent; parsing uses the intent the classifier earlier in the pipeline predicted, so the classifier
must come before this component. An intent never seen in training simply gets the shared weights.

It also decodes with Viterbi (the best tag sequence) instead of Rasa's per-token argmax of the
marginals, which splits and merges spans less often; confidences are still the marginals.

Part of the standalone worker (Rasa's environment, Python 3.10): never imports `assistant`.
"""

from __future__ import annotations

import logging
from typing import Any

import rasa.nlu.utils.bilou_utils as bilou_utils
import rasa.shared.utils.io
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor, CRFToken
from rasa.shared.nlu.constants import ENTITY_ATTRIBUTE_TYPE, INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.constants import BILOU_FLAG, FEATURIZERS

log = logging.getLogger(__name__)
DATASET_FILE = "crf_dataset.json"
ORDER_FILE = "crf_order.json"


class IntentCRFToken(CRFToken):
    """A CRF token that also carries its sentence's intent (true in training, predicted in parsing)."""

    def __init__(self, *args: Any, intent: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.intent = intent

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "intent": self.intent}

    @classmethod
    def create_from_dict(cls, data: dict[str, Any]) -> IntentCRFToken:
        token = CRFToken.create_from_dict(data)
        return cls(
            token.text,
            token.pos_tag,
            token.pattern,
            token.dense_features,
            token.entity_tag,
            token.entity_role_tag,
            token.entity_group_tag,
            intent=str(data.get("intent", "")),
        )


def intent_of(message: Message) -> str:
    """The message's intent name: a plain string in training data, `{"name": ...}` once classified."""
    value = message.get(INTENT)
    if isinstance(value, dict):
        value = value.get(INTENT_NAME_KEY)
    return value if isinstance(value, str) else ""


def conjoin(features: dict[str, Any], intent: str) -> dict[str, Any]:
    """`features` plus an intent-specific copy of the current token's features and the sentence edges."""
    if not intent:
        return features
    extra = {f"{intent}|{k}": v for k, v in features.items() if k.startswith("0:") or k in ("BOS", "EOS")}
    return {**features, **extra, "intent": intent}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class IntentCRFEntityExtractor(CRFEntityExtractor):
    """Rasa's CRF entity extractor with intent-conjoined features and Viterbi decoding."""

    def _convert_to_crf_tokens(self, message: Message) -> list[CRFToken]:
        intent = intent_of(message)
        return [
            IntentCRFToken(
                t.text,
                t.pos_tag,
                t.pattern,
                t.dense_features,
                t.entity_tag,
                t.entity_role_tag,
                t.entity_group_tag,
                intent=intent,
            )
            for t in super()._convert_to_crf_tokens(message)
        ]

    @classmethod
    def _create_features_for_token(
        cls,
        crf_tokens: list[CRFToken],
        token_idx: int,
        half_window_size: int,
        window_range: range,
        include_tag_features: bool,
        config: dict[str, Any],
    ) -> dict[str, Any]:
        features = super()._create_features_for_token(
            crf_tokens, token_idx, half_window_size, window_range, include_tag_features, config
        )
        return conjoin(features, getattr(crf_tokens[token_idx], "intent", ""))

    def extract_entities(self, message: Message) -> list[dict[str, Any]]:
        """The entities of `message`, tagged with the best sequence for its predicted intent."""
        if self.entity_taggers is None or not message.features_present(
            attribute=TEXT, featurizers=self.component_config.get(FEATURIZERS)
        ):
            return []
        tokens = message.get(TOKENS_NAMES[TEXT])
        crf_tokens = self._convert_to_crf_tokens(message)
        tags: dict[str, list[str]] = {}
        confidences: dict[str, list[float]] = {}
        for tag_name, tagger in self.entity_taggers.items():
            include_tag_features = tag_name != ENTITY_ATTRIBUTE_TYPE
            if include_tag_features and ENTITY_ATTRIBUTE_TYPE in tags:
                for tag, token in zip(tags[ENTITY_ATTRIBUTE_TYPE], crf_tokens, strict=True):
                    token.entity_tag = tag
            features = self._crf_tokens_to_features(crf_tokens, self.component_config, include_tag_features)
            best = list(tagger.predict_single(features))
            marginals = tagger.predict_marginals_single(features)
            scores = [float(m.get(tag, 0.0)) for tag, m in zip(best, marginals, strict=True)]
            if self.component_config[BILOU_FLAG]:
                best, scores = bilou_utils.ensure_consistent_bilou_tagging(best, scores)
            tags[tag_name], confidences[tag_name] = best, scores
        return self.convert_predictions_into_entities(
            message.get(TEXT), tokens, tags, self.split_entities_config, confidences
        )

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> IntentCRFEntityExtractor:
        """Rasa stores the CRF's training set, not the CRF: load retrains it (as the parent does)."""
        try:
            with model_storage.read_from(resource) as model_dir:
                raw = rasa.shared.utils.io.read_json_file(model_dir / DATASET_FILE)
                crf_order = rasa.shared.utils.io.read_json_file(model_dir / ORDER_FILE)
        except ValueError:
            log.warning("no trained %s in resource %r: it will find no entities", cls.__name__, resource.name)
            return cls(config, model_storage, resource)
        dataset: list[list[CRFToken]] = [[IntentCRFToken.create_from_dict(t) for t in s] for s in raw]
        taggers: dict[str, Any] | None = cls.train_model(dataset, config, crf_order) if dataset else None
        extractor = cls(config, model_storage, resource, taggers)
        extractor.crf_order = crf_order
        return extractor
