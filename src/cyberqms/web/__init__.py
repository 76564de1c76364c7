"""The shell every page shares: layout, navigation, home, health and error pages."""
