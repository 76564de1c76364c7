from cyberqms.core.records import QualityRecord


class Widget(QualityRecord):
    """A quality record with nothing of its own."""
