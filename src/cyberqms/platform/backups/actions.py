"""Actions of backups, declared to the gate when the app is ready."""

from cyberqms.platform.core.access import declare

VIEW = declare("backups.backup.view", "See the backups taken and their manifests", read=True)
CREATE = declare("backups.backup.create", "Take a backup of the database")
