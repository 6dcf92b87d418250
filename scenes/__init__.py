"""Memorial rooms as data (one TOML per room) and the code that builds them into Panda3D nodes."""
