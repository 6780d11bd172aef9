"""The errors edgekit raises for problems a user can fix; the CLI prints them as one line."""


class EdgekitError(Exception):
    """Base class: the message states the rule, what was received and the fix."""


class ConfigError(EdgekitError):
    """A configuration value or file that cannot be used."""


class DatasetError(EdgekitError):
    """A dataset folder that cannot be trained on."""


class ModelError(EdgekitError):
    """An unknown model name or a model that cannot be built as asked."""


class WeightsError(ModelError):
    """Pretrained weights that cannot be fetched or loaded."""


class TrackingError(EdgekitError):
    """An MLflow store that cannot be reached or written."""


class ExportError(EdgekitError):
    """A model that cannot be exported, or an export that does not match its Keras model."""
