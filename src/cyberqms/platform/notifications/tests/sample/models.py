from cyberqms.platform.kit.records import QualityRecord


class Widget(QualityRecord):
    """A quality record with nothing of its own."""
