"""The contract as data: the requirement catalog (requirements.yaml) and the spec (openapi.yaml).

The bottom layer: everything else reads the contract from here, and it imports
nothing of the package.
"""

from .catalog import AREAS, Level, Requirement, load_catalog
from .spec import LOGIN_PATH, load_openapi, spec_sha256, spec_version

__all__ = ["AREAS", "LOGIN_PATH", "Level", "Requirement", "load_catalog", "load_openapi", "spec_sha256", "spec_version"]
