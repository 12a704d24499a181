"""The checkout's paths, shared by the project's tests (one definition, not one per module)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "ipadlogin_conformance"
SUITE = PACKAGE / "suite"
SERVER = PACKAGE / "server"
