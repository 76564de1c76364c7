from django.db import models


class Role(models.TextChoices):
    """Roles that match real responsibilities in a GxP organization."""

    QA_MANAGER = "qa_manager", "QA manager"
    QA_REVIEWER = "qa_reviewer", "QA reviewer"
    PROCESS_OWNER = "process_owner", "Process owner"
    AUTHOR = "author", "Author / originator"
    IT_SECURITY = "it_security", "IT-security analyst"
    SYSTEM_OWNER = "system_owner", "System owner"
    AUDITOR = "auditor", "Auditor / inspector"
    ADMINISTRATOR = "administrator", "Administrator"


class AccountKind(models.TextChoices):
    PERSON = "person", "Named person"
    GENERIC = "generic", "Generic / shared account"


class WorkPattern(models.TextChoices):
    """When a person normally works: security monitoring expects night and weekend work
    from shift workers and service accounts, not from day staff."""

    DAY = "day", "Day work (office hours)"
    SHIFT = "shift", "Shift work (nights and weekends)"
    SERVICE = "service", "Around the clock (service account)"


class IntegrationKind(models.TextChoices):
    LIMS = "lims", "LIMS"
    MES = "mes", "MES"
    SCADA = "scada", "SCADA / PLC"
    ERP = "erp", "ERP"
    SIEM = "siem", "SIEM"
    DIRECTORY = "directory", "Directory / domain controller"
    FIREWALL = "firewall", "Firewall"
    OTHER = "other", "Other"
