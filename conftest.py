"""Loads the suite's pytest plugin also where plugin autoloading is off (PYTEST_DISABLE_PLUGIN_AUTOLOAD).

The installed package registers the plugin as a pytest11 entry point under this
very name, so in an ordinary run this line finds it registered and adds nothing.
The conformance tests live in the package (src/ipadlogin_conformance/suite),
so the installed console tool runs the very same tests without a checkout.
"""

pytest_plugins = ["ipadlogin_conformance.runner.plugin"]
