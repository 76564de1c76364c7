"""cyberqms: a cyber-resilient electronic Quality Management System."""

__version__ = "0.1.0"
