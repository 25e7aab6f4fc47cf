"""ServerOps log agent: follows Minecraft server logs, parses them and ships them to ServerOps."""

__version__ = "0.1.0"
