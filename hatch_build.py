"""Build hook: the wheel gets the real openapi.yaml as package data.

``src/ipadlogin_conformance/contract/openapi.yaml`` is a link to the top-level spec (one
file, two places); archives leave the link out (see pyproject.toml) and this
copies the spec itself into the wheel. An editable install keeps using the
link in the source tree.
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class SpecIntoWheel(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name == "wheel" and version != "editable":
            build_data["force_include"]["openapi.yaml"] = "ipadlogin_conformance/contract/openapi.yaml"
