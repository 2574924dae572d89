"""BlueCat Gateway compatible names: ``from availability_group.api import ...``."""
