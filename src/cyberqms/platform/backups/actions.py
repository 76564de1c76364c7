"""Actions of backups, declared to the gate when the app is ready."""

from cyberqms.platform.core.access import declare

VIEW = declare("backups.backup.view", "See the backups taken and their manifests", read=True)
CREATE = declare("backups.backup.create", "Take a backup of the database")
VERIFY = declare("backups.backup.verify", "Test the restore of a backup in an isolated copy")
RESTORE = declare("backups.backup.restore", "Restore the database from a backup")
