"""What every DuckDB connection the project opens is given, said once for the store, the models and
the text signals (each layer opens its own, none reaches up to the store for the setting)."""

from __future__ import annotations

#: DuckDB never installs nor loads an extension by itself (it would download it: a SQLite file
#: given as a store made it try), so no connection goes on the network.
NO_NETWORK = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
